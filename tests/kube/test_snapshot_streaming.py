"""`diagnose --from SNAPSHOT` reads gputui's own snapshots item by item, and judges exactly
what the general loader would.

For every built-in scenario the simulator serves the cluster, `gputui snapshot` writes it,
and `diagnose --from FILE -o json` must print the same bytes whether the file is streamed
into the checks' structs or read whole by the general (simulator's) loader.
"""

from __future__ import annotations

import json

import pytest
import yaml

from gputui.cli import main
from gputui.kube import snapshot_file
from gputui.sim.loader import scenario_names


def _snapshot(capsys, sim, out) -> None:
    code = main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", str(out), "--no-progress"])
    assert code in (0, 3), capsys.readouterr().err
    capsys.readouterr()


def _diagnose_from(capsys, path, monkeypatch, *, stream: bool) -> str:
    calls = []
    real = snapshot_file.read_streamed

    def spy(p):
        calls.append(p)
        return real(p) if stream else None

    with monkeypatch.context() as m:
        m.setattr(snapshot_file, "read_streamed", spy)
        code = main(["diagnose", "--from", str(path), "-o", "json", "--fail-on", "none"])
    out = capsys.readouterr().out
    assert code in (0, 3) and calls == [str(path)]
    return out


@pytest.mark.parametrize("scenario", scenario_names())
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_streamed_snapshot_diagnoses_as_the_general_loader(capsys, start_sim, tmp_path, monkeypatch, scenario, suffix):
    sim = start_sim(sources=[scenario])
    out = tmp_path / f"snap{suffix}"
    _snapshot(capsys, sim, out)
    assert snapshot_file.read_streamed(str(out)) is not None  # the streaming path is the one taken
    streamed = _diagnose_from(capsys, out, monkeypatch, stream=True)
    general = _diagnose_from(capsys, out, monkeypatch, stream=False)
    assert streamed == general
    assert json.loads(streamed)["cluster"]["source"] == "snapshot"


def test_one_line_items_are_yaml_every_reader_takes(capsys, start_sim, tmp_path):
    sim = start_sim(sources=["driver-crashloop"])
    out = tmp_path / "snap.yaml"
    _snapshot(capsys, sim, out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[:5] == ["apiVersion: v1", "kind: List", "metadata:", '  resourceVersion: ""', "items:"]
    assert all(line.startswith('- {"apiVersion":') for line in lines[5:])
    as_yaml = yaml.load(out.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)["items"]
    as_json = [json.loads(line[2:]) for line in lines[5:]]
    assert as_yaml == as_json and as_json[0]["metadata"]["name"] == "gputui-snapshot"


@pytest.mark.parametrize(
    "value",
    ["line\u2028break", "nel\u0085here", "del\x7fchar", "tab\tand\nnewline", "größe 80 GiB", '"quoted" \\ back'],
)
def test_characters_yaml_reads_differently_survive_the_one_line_form(value):
    line = snapshot_file.item_line({"apiVersion": "v1", "kind": "ConfigMap", "data": {"v": value}})
    assert b"\n" not in line
    assert yaml.load(b"- " + line, Loader=yaml.SafeLoader)[0]["data"]["v"] == value
    assert json.loads(line)["data"]["v"] == value


def test_exponent_floats_go_as_block_yaml(tmp_path):
    writer = snapshot_file.SnapshotWriter(str(tmp_path / "x.yaml"))
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "spec": {"small": 1e-05, "big": 1.5e16}}
    data = writer._serialize([obj])
    writer.close()
    assert not data.startswith(b"- {")
    assert yaml.load(data, Loader=yaml.SafeLoader)[0]["spec"] == {"small": 1e-05, "big": 1.5e16}


def test_other_files_are_left_to_the_general_loader(tmp_path):
    hand = tmp_path / "hand.yaml"
    hand.write_text("apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n")
    assert snapshot_file.read_streamed(str(hand)) is None
    cut = tmp_path / "cut.json"
    cut.write_bytes(snapshot_file.JSON_HEAD + b'{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}},\n')
    assert snapshot_file.read_streamed(str(cut)) is None  # no meta object, and cut short


def test_older_snapshot_layouts_still_read(capsys, start_sim, tmp_path, monkeypatch):
    """Snapshots written before items were one line each: block YAML streams item by item,
    indented JSON goes through the general loader; both judge as the current file does."""
    sim = start_sim(sources=["driver-crashloop"])
    current = tmp_path / "snap.yaml"
    _snapshot(capsys, sim, current)
    doc = yaml.load(current.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    expected = _diagnose_from(capsys, current, monkeypatch, stream=True)

    block = tmp_path / "old.yaml"
    block.write_text(
        yaml.dump(doc, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)
    )
    assert block.read_text().startswith("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: ''\nitems:\n- ")
    assert snapshot_file.read_streamed(str(block)) is not None
    indented = tmp_path / "old.json"
    indented.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    assert snapshot_file.read_streamed(str(indented)) is None

    for path in (block, indented):
        out = _diagnose_from(capsys, path, monkeypatch, stream=True)
        assert out.replace(str(path), str(current)) == expected
