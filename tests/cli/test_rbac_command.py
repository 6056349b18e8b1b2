"""`gputui rbac`: the shipped roles, as printed, as kept in deploy/rbac, and as kubectl applies them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gputui.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["rbac", *args])
    out, err = capsys.readouterr()
    return code, out, err


def docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("role", ["diagnose", "fix", "debug"])
def test_deploy_files_are_what_the_command_prints(role, capsys):
    code, out, _ = run(capsys, role)
    assert code == 0
    shipped = ROOT / "deploy" / "rbac" / f"gputui-{role}.yaml"
    assert out == shipped.read_text(encoding="utf-8"), f"regenerate with: gputui rbac {role} > {shipped}"


def test_all_prints_every_role_with_its_comments(capsys):
    code, out, _ = run(capsys, "all", "-o", "yaml")
    assert code == 0
    kinds = [(d["kind"], d["metadata"]["name"]) for d in docs(out)]
    assert kinds == [
        ("ClusterRole", "gputui-diagnose"),
        ("ClusterRole", "gputui-fix"),
        ("Namespace", "gputui-debug"),
        ("ClusterRole", "gputui-debug"),
        ("Role", "gputui-debug"),
    ]
    # The comments say which command needs which verb; they survive into the output.
    assert "# cordon-node / uncordon-node" in out and "# The log tails of failing GPU Operator pods" in out
    assert run(capsys)[1] == out  # `all` is the default


def test_read_only_role_never_writes_nor_reads_secrets(capsys):
    _, out, _ = run(capsys, "diagnose")
    [role] = docs(out)
    verbs = {v for r in role["rules"] for v in r["verbs"]}
    assert verbs == {"get", "list", "watch"}  # watch: the app stays current
    assert not any("secrets" in r["resources"] or "*" in r["resources"] for r in role["rules"])


def test_namespace_moves_the_debug_role_and_drops_the_namespace(capsys):
    _, out, _ = run(capsys, "debug", "--namespace", "ml")
    got = [(d["kind"], d["metadata"].get("namespace")) for d in docs(out)]
    assert got == [("ClusterRole", None), ("Role", "ml")]
    _, top, _ = run(capsys, "debug")
    assert ("Namespace", None) in [(d["kind"], d["metadata"].get("namespace")) for d in docs(top)]
    # -n before the command, as for every gputui command.
    assert main(["-n", "ml", "rbac", "debug"]) == 0
    assert capsys.readouterr().out == out


def test_bindings_for_users_groups_and_service_accounts(capsys):
    code, out, _ = run(
        capsys, "debug", "-n", "gpu-debug", "--user", "alice", "--group", "sre", "--serviceaccount", "ops:robot"
    )
    assert code == 0
    bound = [d for d in docs(out) if d["kind"].endswith("Binding")]
    assert [
        (b["kind"], b["metadata"]["name"], b["metadata"].get("namespace"), b["roleRef"]["kind"]) for b in bound
    ] == [
        ("ClusterRoleBinding", "gputui-debug", None, "ClusterRole"),
        ("RoleBinding", "gputui-debug", "gpu-debug", "Role"),
    ]
    assert bound[0]["subjects"] == [
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"},
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "sre"},
        {"kind": "ServiceAccount", "namespace": "ops", "name": "robot"},
    ]


def test_a_bad_service_account_is_a_usage_line(capsys):
    code, out, err = run(capsys, "fix", "--serviceaccount", "robot")
    assert code == 5 and out == ""
    assert err.splitlines() == [
        "gputui: error: --serviceaccount robot: expected NAMESPACE:NAME",
        "  hint: e.g. --serviceaccount ops:gputui",
    ]


def test_help_names_the_roles_and_an_example(capsys):
    with pytest.raises(SystemExit) as e:
        main(["rbac", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for word in ("gputui-diagnose", "gputui-fix", "gputui-debug", "--namespace", "kubectl apply -f -"):
        assert word in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "rbac" in capsys.readouterr().out


# -- kubectl apply against the simulator -------------------------------------------------------------

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def kubectl(sim, *args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(sim.kubeconfig), *args], input=stdin, capture_output=True, text=True, timeout=60
    )


@needs_kubectl
def test_output_applies_cleanly_with_server_dry_run(start_sim, capsys):
    # A server dry run creates nothing, so the debug Role needs its namespace to exist already.
    sim = start_sim(objects=[{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "gputui-debug"}}])
    _, out, _ = run(capsys, "all", "--group", "gpu-sre")
    r = kubectl(sim, "apply", "--dry-run=server", "-f", "-", stdin=out)
    assert r.returncode == 0, r.stderr
    # kubectl's only remark: the namespace it did not create lacks its last-applied annotation.
    assert [line for line in r.stderr.splitlines() if "last-applied-configuration" not in line] == []
    assert r.stdout.splitlines() == [
        "clusterrole.rbac.authorization.k8s.io/gputui-diagnose created (server dry run)",
        "clusterrole.rbac.authorization.k8s.io/gputui-fix created (server dry run)",
        "namespace/gputui-debug configured (server dry run)",
        "clusterrole.rbac.authorization.k8s.io/gputui-debug created (server dry run)",
        "role.rbac.authorization.k8s.io/gputui-debug created (server dry run)",
        "clusterrolebinding.rbac.authorization.k8s.io/gputui-diagnose created (server dry run)",
        "clusterrolebinding.rbac.authorization.k8s.io/gputui-fix created (server dry run)",
        "clusterrolebinding.rbac.authorization.k8s.io/gputui-debug created (server dry run)",
        "rolebinding.rbac.authorization.k8s.io/gputui-debug created (server dry run)",
    ]
    rt = sim.store.type_for("rbac.authorization.k8s.io/v1", "ClusterRole")
    assert sim.store.list(rt)[0] == []  # a dry run stores nothing


@needs_kubectl
def test_output_applies_on_an_empty_cluster_and_then_grants(start_sim, capsys, tmp_path):
    from tests.helpers.sim import identity_kubeconfig

    sim = start_sim()
    _, out, _ = run(capsys, "debug", "--user", "alice")
    r = kubectl(sim, "apply", "-f", "-", stdin=out)
    assert r.returncode == 0, r.stderr
    kc = identity_kubeconfig(sim, tmp_path / "alice", "alice")
    can = subprocess.run(
        ["kubectl", "--kubeconfig", str(kc), "auth", "can-i", "create", "pods", "-n", "gputui-debug"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert can.stdout.strip() == "yes"


def test_debug_role_namespace_is_the_one_gputui_debug_prefers(capsys):
    from gputui.debugpod.fleet_run import PREFERRED_NAMESPACE
    from gputui.debugpod.runner import PRIVILEGED_LABEL

    _, out, _ = run(capsys, "debug")
    ns = next(d for d in docs(out) if d["kind"] == "Namespace")
    assert ns["metadata"]["name"] == PREFERRED_NAMESPACE
    key, _, value = PRIVILEGED_LABEL.partition("=")
    assert ns["metadata"]["labels"][key] == value
