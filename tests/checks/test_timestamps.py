import datetime as dt

import pytest

from checks.timestamps import parse_time

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-12-07T10:00:00Z", dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
        ("2026-12-07T10:00:00.5Z", dt.datetime(2026, 12, 7, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-12-07T10:00:00.123456789Z", dt.datetime(2026, 12, 7, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2026-12-07T12:00:00+02:00", dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
        ("2026-12-07T10:00:00", dt.datetime(2026, 12, 7, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_time_reads_what_the_api_writes(text, expected):
    when = parse_time(text)
    assert when == expected and when.tzinfo == UTC


@pytest.mark.parametrize("value", [None, "", "yesterday", "2026-13-01T00:00:00Z", 1700000000])
def test_parse_time_is_none_for_anything_else(value):
    assert parse_time(value) is None
