"""Shell completion, for real: bash sources `gputui completion bash`, COMP_WORDS/COMP_CWORD are
set as bash sets them, the completion function runs and COMPREPLY is read back. Node and
NodePool names come from the simulator, contexts from the kubeconfig."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gputui.cli import main

BIN = Path(sys.executable).parent
NODE = "ip-10-0-39-113.us-west-2.compute.internal"


def _bash_complete(*words: str, kubeconfig: Path | None = None) -> list[str]:
    """COMPREPLY for the command line `words` (the last one being completed, possibly empty)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    if not (BIN / "gputui").exists():
        pytest.skip(f"gputui is not installed into {BIN} (run `pip install -e .` there)")
    script = subprocess.run(
        [str(BIN / "gputui"), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"{script}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n"
        "_gputui_complete\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    done = subprocess.run([bash, "--norc", "--noprofile", "-c", program], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line]


def test_subcommands_and_options():
    assert _bash_complete("gputui", "di") == ["diagnose"]
    assert "completion" in _bash_complete("gputui", "")
    assert "__complete" not in _bash_complete("gputui", "")
    assert set(_bash_complete("gputui", "diagnose", "--n")) == {"--namespace", "--node", "--nodepool", "--no-progress"}
    assert _bash_complete("gputui", "diagnose", "-o", "") == ["text", "json", "yaml", "markdown", "junit", "sarif"]
    from gputui.report.catalogue import all_checks

    debug_codes = [c.code for c in all_checks() if c.code.startswith("GPU70")]
    assert _bash_complete("gputui", "checks", "explain", "GPU70") == debug_codes and "GPU701" in debug_codes
    assert _bash_complete("gputui", "checks", "") == ["list", "explain"]
    assert "incident" in _bash_complete("gputui", "demo", "")


def test_contexts_nodes_and_nodepools_from_the_simulator(start_sim):
    sim = start_sim(sources=["incident"])
    assert _bash_complete("gputui", "--context", "", kubeconfig=sim.kubeconfig) == [sim.context]
    nodes = _bash_complete("gputui", "diagnose", "--node", "ip-10-0-39-1", kubeconfig=sim.kubeconfig)
    assert NODE in nodes and all(n.startswith("ip-10-0-39-1") for n in nodes)
    # An explicit --kubeconfig on the command line is the one read.
    assert NODE in _bash_complete("gputui", "--kubeconfig", str(sim.kubeconfig), "debug", "ip-10-0-39-11")
    pools = _bash_complete("gputui", "debug", "--nodepool", "gpu-", kubeconfig=sim.kubeconfig)
    assert "gpu-inference" in pools and "gpu-training" in pools
    assert "ml-serving" in _bash_complete("gputui", "diagnose", "-n", "ml-", kubeconfig=sim.kubeconfig)


def test_an_unreachable_cluster_completes_nothing_quietly(tmp_path):
    config = tmp_path / "config"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: gone, context: {cluster: c, user: u}}]\n"
    )
    assert _bash_complete("gputui", "diagnose", "--node", "", kubeconfig=config) == []
    assert _bash_complete("gputui", "--context", "", kubeconfig=config) == ["gone"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_shell_gets_a_script_that_calls_gputui(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "gputui __complete --" in script and "kubectl-gputui" in script
    if shell == "bash" and shutil.which("bash"):
        assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_kubectl_plugin_completion_answers_as_cobra_expects(capsys):
    assert main(["__complete", "--kubectl", "--", "di"]) == 0
    assert capsys.readouterr().out == "diagnose\n:4\n"
    assert main(["__complete", "--kubectl", "--", "diagnose", "--from", "./"]) == 0
    assert capsys.readouterr().out == ":0\n"  # no candidates: the shell completes file names
