"""`gputui snapshot -o PATH` writes only regular files: what it refuses, what it keeps."""

from __future__ import annotations

import os
import stat

import pytest

from gputui.cli import main
from gputui.errors import EXIT_INPUT

SCENARIO = "device-plugin-taint"


def _snapshot(sim, target: str) -> int:
    return main(["snapshot", "--kubeconfig", str(sim.kubeconfig), "-o", target, "--no-progress"])


@pytest.fixture
def sim(start_sim):
    return start_sim(sources=[SCENARIO])


def _refused(capsys, code: int, what: str) -> None:
    err = capsys.readouterr().err
    assert code == EXIT_INPUT, err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("gputui: error: refusing to write") and what in lines[0]
    assert lines[1].startswith("  hint:") and "Traceback" not in err


def test_a_fifo_is_refused(capsys, sim, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _refused(capsys, _snapshot(sim, str(fifo)), "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_device_is_refused_and_stays_a_device(capsys, sim):
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    _refused(capsys, _snapshot(sim, "/dev/null"), "character device")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_a_symlink_to_a_device_is_refused(capsys, sim, tmp_path):
    link = tmp_path / "out.yaml"
    link.symlink_to("/dev/null")
    _refused(capsys, _snapshot(sim, str(link)), "symlink to /dev/null")
    assert os.path.islink(link) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(os.listdir(tmp_path)) == ["out.yaml"]


def test_a_dangling_symlink_is_refused(capsys, sim, tmp_path):
    link = tmp_path / "out.yaml"
    link.symlink_to(tmp_path / "nowhere.yaml")
    _refused(capsys, _snapshot(sim, str(link)), "does not exist")
    assert not (tmp_path / "nowhere.yaml").exists()


def test_a_directory_is_refused(capsys, sim, tmp_path):
    d = tmp_path / "dir.yaml"
    d.mkdir()
    _refused(capsys, _snapshot(sim, str(d)), "directory")
    assert d.is_dir() and list(d.iterdir()) == []


def test_an_existing_file_is_replaced_and_keeps_its_permissions(capsys, sim, tmp_path):
    out = tmp_path / "snap.yaml"
    out.write_text("old\n")
    os.chmod(out, 0o640)
    assert _snapshot(sim, str(out)) == 0, capsys.readouterr().err
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert out.read_text().startswith("apiVersion: v1\nkind: List\n")
    assert sorted(os.listdir(tmp_path)) == ["snap.yaml"]  # no temporary or spool file left


def test_a_new_file_is_private(capsys, sim, tmp_path):
    out = tmp_path / "new.json"
    old_umask = os.umask(0o002)  # a permissive umask must not widen it
    try:
        assert _snapshot(sim, str(out)) == 0, capsys.readouterr().err
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert out.read_text().startswith('{"apiVersion":"v1","kind":"List"')


def test_a_symlink_to_a_regular_file_replaces_the_file_and_keeps_the_link(capsys, sim, tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("old\n")
    os.chmod(real, 0o644)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    assert _snapshot(sim, str(link)) == 0, capsys.readouterr().err
    assert os.path.islink(link) and real.read_text().startswith("apiVersion: v1\n")
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o644


def test_dash_is_standard_output(capsys, sim, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _snapshot(sim, "-") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("apiVersion: v1\nkind: List\n") and "to -" in captured.err
    assert os.listdir(tmp_path) == []  # no file called "-"


def test_refused_before_the_cluster_is_read(capsys, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # No cluster at this kubeconfig: the refusal comes first, with its own exit code.
    code = main(["snapshot", "--kubeconfig", str(tmp_path / "missing"), "-o", str(fifo), "--no-progress"])
    _refused(capsys, code, "FIFO")


def test_a_target_swapped_for_a_fifo_while_writing_is_left_alone(tmp_path):
    from gputui.errors import InputError
    from gputui.files import safe_output

    out = tmp_path / "snap.yaml"
    out.write_text("old\n")
    with pytest.raises(InputError, match="FIFO"):
        with safe_output(str(out)) as f:
            f.write(b"new\n")
            out.unlink()
            os.mkfifo(out)
    assert stat.S_ISFIFO(os.lstat(out).st_mode) and sorted(os.listdir(tmp_path)) == ["snap.yaml"]


def test_a_failed_write_leaves_the_old_file(tmp_path):
    from gputui.files import safe_output

    out = tmp_path / "snap.yaml"
    out.write_text("old\n")
    with pytest.raises(OSError):
        with safe_output(str(out)) as f:
            f.write(b"half")
            raise OSError(28, "No space left on device")
    assert out.read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["snap.yaml"]
