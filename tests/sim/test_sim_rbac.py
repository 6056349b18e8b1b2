"""RBAC in the simulator: token identities judged by the Roles, ClusterRoles and bindings it serves."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gputui.sim.rbac import Attributes, Identity, parse_identity, rule_allows
from tests.helpers.sim import identity_kubeconfig, serve_process, sim_http

RBAC = "rbac.authorization.k8s.io/v1"


def cluster_role(name: str, *rules: dict) -> dict:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": name}, "rules": list(rules)}


def role(name: str, namespace: str, *rules: dict) -> dict:
    return {
        "apiVersion": RBAC,
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": list(rules),
    }


def rule(verbs, resources, groups=("",), names=()) -> dict:
    out = {"apiGroups": list(groups), "resources": list(resources), "verbs": list(verbs)}
    if names:
        out["resourceNames"] = list(names)
    return out


def binding(kind: str, name: str, role_kind: str, role_name: str, subjects: list[dict], namespace: str = "") -> dict:
    md = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": md,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def user(name: str) -> dict:
    return {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def group(name: str) -> dict:
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name}


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def pod(name: str, ns: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }


# -- the rule matcher -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "attrs", "allowed"),
    [
        (rule(["list"], ["pods"]), Attributes("list", "", "pods"), True),
        (rule(["list"], ["pods"]), Attributes("watch", "", "pods"), False),
        (rule(["list"], ["pods"]), Attributes("list", "apps", "pods"), False),
        (rule(["*"], ["*"], ["*"]), Attributes("delete", "karpenter.sh", "nodeclaims", name="x"), True),
        # A subresource is its own resource: pods does not grant pods/log, nor the reverse.
        (rule(["get"], ["pods"]), Attributes("get", "", "pods", "log", "ml", "p"), False),
        (rule(["get"], ["pods/log"]), Attributes("get", "", "pods", "log", "ml", "p"), True),
        (rule(["get"], ["pods/log"]), Attributes("get", "", "pods", "", "ml", "p"), False),
        (rule(["create"], ["*/eviction"]), Attributes("create", "", "pods", "eviction", "ml", "p"), True),
        (rule(["get"], ["pods/*"]), Attributes("get", "", "pods", "log", "ml", "p"), True),
        # resourceNames limit a rule to named objects; a list names none.
        (rule(["get"], ["nodes"], names=["a"]), Attributes("get", "", "nodes", name="a"), True),
        (rule(["get"], ["nodes"], names=["a"]), Attributes("get", "", "nodes", name="b"), False),
        (rule(["list"], ["nodes"], names=["a"]), Attributes("list", "", "nodes"), False),
    ],
)
def test_rule_matching(r, attrs, allowed):
    assert rule_allows(r, attrs) is allowed


def test_user_option_form():
    assert parse_identity("alice=s3cret") == ("s3cret", Identity("alice"))
    assert parse_identity("ci:sre,gpu=t0k") == ("t0k", Identity("ci", ("sre", "gpu")))
    for bad in ("alice", "=tok", "alice="):
        with pytest.raises(ValueError):
            parse_identity(bad)


# -- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def rbac_sim(start_sim):
    objects = [
        namespace("ml"),
        namespace("other"),
        pod("train-0", "ml"),
        pod("web-0", "other"),
        role("pod-reader", "ml", rule(["get", "list"], ["pods"]), rule(["get"], ["pods/log"])),
        binding("RoleBinding", "alice-reads-ml", "Role", "pod-reader", [user("alice")], "ml"),
        cluster_role("node-reader", rule(["get", "list"], ["nodes"])),
        binding("ClusterRoleBinding", "sre-nodes", "ClusterRole", "node-reader", [group("sre")]),
        cluster_role("one-node", rule(["get"], ["nodes"], names=["gpu-a"])),
        binding(
            "ClusterRoleBinding",
            "robot-one-node",
            "ClusterRole",
            "one-node",
            [{"kind": "ServiceAccount", "namespace": "ops", "name": "robot"}],
        ),
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-a"}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-b"}},
    ]
    return start_sim(
        objects=objects,
        identities={
            "alice-token": Identity("alice"),
            "bob-token": Identity("bob", ("sre",)),
            "robot-token": Identity("system:serviceaccount:ops:robot"),
            "root-token": Identity("root", ("system:masters",)),
        },
    )


def status_of(resp) -> tuple[int, dict]:
    code, _, body = resp
    return code, json.loads(body)


def test_role_binding_grants_only_in_its_namespace(rbac_sim):
    code, body = status_of(sim_http(rbac_sim, "GET", "/api/v1/namespaces/ml/pods", token="alice-token"))
    assert code == 200 and [p["metadata"]["name"] for p in body["items"]] == ["train-0"]
    code, body = status_of(sim_http(rbac_sim, "GET", "/api/v1/pods", token="alice-token"))
    assert code == 403
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope',
        "reason": "Forbidden",
        "details": {"kind": "pods"},
        "code": 403,
    }
    code, body = status_of(sim_http(rbac_sim, "GET", "/api/v1/namespaces/other/pods/web-0", token="alice-token"))
    assert code == 403 and body["message"] == (
        'pods "web-0" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "other"'
    )


def test_subresources_are_judged_apart(rbac_sim):
    code, _, _ = sim_http(rbac_sim, "GET", "/api/v1/namespaces/ml/pods/train-0/log", token="alice-token")
    assert code != 403  # allowed (the scripted pod has no log: the answer is the log endpoint's own)
    code, body = status_of(
        sim_http(
            rbac_sim,
            "POST",
            "/api/v1/namespaces/ml/pods/train-0/eviction",
            body={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "train-0", "namespace": "ml"}},
            token="alice-token",
        )
    )
    assert code == 403 and 'cannot create resource "pods/eviction" in API group ""' in body["message"]


def test_group_and_service_account_subjects_and_resource_names(rbac_sim):
    assert sim_http(rbac_sim, "GET", "/api/v1/nodes", token="bob-token")[0] == 200
    assert sim_http(rbac_sim, "GET", "/api/v1/namespaces/ml/pods", token="bob-token")[0] == 403
    assert sim_http(rbac_sim, "GET", "/api/v1/nodes/gpu-a", token="robot-token")[0] == 200
    code, body = status_of(sim_http(rbac_sim, "GET", "/api/v1/nodes/gpu-b", token="robot-token"))
    assert code == 403 and body["message"].startswith(
        'nodes "gpu-b" is forbidden: User "system:serviceaccount:ops:robot" cannot get resource "nodes"'
    )
    assert sim_http(rbac_sim, "GET", "/api/v1/nodes", token="robot-token")[0] == 403


def test_admin_and_masters_keep_full_access_and_unknown_tokens_are_refused(rbac_sim):
    assert sim_http(rbac_sim, "GET", "/api/v1/pods")[0] == 200  # the kubeconfig's own token
    assert sim_http(rbac_sim, "DELETE", "/api/v1/namespaces/other/pods/web-0", token="root-token")[0] == 200
    assert sim_http(rbac_sim, "GET", "/api/v1/pods", token="nobody")[0] == 401
    # Discovery and /version stay open to every authenticated user, as with the default roles.
    assert sim_http(rbac_sim, "GET", "/api", token="alice-token")[0] == 200
    assert sim_http(rbac_sim, "GET", "/version", token="alice-token")[0] == 200


def test_roles_created_through_the_api_apply_at_once(rbac_sim):
    assert sim_http(rbac_sim, "GET", "/api/v1/namespaces", token="alice-token")[0] == 403
    created = sim_http(
        rbac_sim,
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        body=cluster_role("ns-reader", rule(["list"], ["namespaces"])),
    )
    assert created[0] == 201
    crb = binding("ClusterRoleBinding", "alice-ns", "ClusterRole", "ns-reader", [user("alice")])
    assert sim_http(rbac_sim, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", body=crb)[0] == 201
    assert sim_http(rbac_sim, "GET", "/api/v1/namespaces", token="alice-token")[0] == 200


def test_decisions_are_recorded_for_identities_only(rbac_sim):
    sim_http(rbac_sim, "GET", "/api/v1/pods")
    sim_http(rbac_sim, "GET", "/api/v1/namespaces/ml/pods", token="alice-token")
    sim_http(rbac_sim, "GET", "/api/v1/nodes", token="alice-token")
    got = [(d.user, d.attributes.verb, d.attributes.resource, d.allowed) for d in rbac_sim.server.authorizer.decisions]
    assert got == [("alice", "list", "pods", True), ("alice", "list", "nodes", False)]


def test_self_subject_access_review(rbac_sim):
    def review(token, **attrs):
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}}
        body["spec"]["resourceAttributes"] = attrs
        code, _, raw = sim_http(
            rbac_sim, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=body, token=token
        )
        assert code == 201
        return json.loads(raw)["status"]["allowed"]

    assert review("alice-token", verb="list", resource="pods", namespace="ml") is True
    assert review("alice-token", verb="list", resource="pods") is False
    assert review("alice-token", verb="get", resource="pods", subresource="log", namespace="ml") is True
    assert review("bob-token", verb="list", resource="nodes") is True
    assert review("root-token", verb="delete", resource="nodes") is True


def test_only_an_admin_may_impersonate(rbac_sim):
    headers = {"Impersonate-User": "bob", "Impersonate-Group": "sre"}
    assert sim_http(rbac_sim, "GET", "/api/v1/nodes", headers=headers)[0] == 200
    code, body = status_of(sim_http(rbac_sim, "GET", "/api/v1/nodes", headers=headers, token="alice-token"))
    assert code == 403 and body["message"] == (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope'
    )
    # Impersonated, bob is judged as bob: no pods.
    assert sim_http(rbac_sim, "GET", "/api/v1/pods", headers=headers)[0] == 403


# -- the real kubectl -------------------------------------------------------------------------------

needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def kubectl(kubeconfig, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@needs_kubectl
def test_kubectl_auth_can_i_and_forbidden_wording(rbac_sim, tmp_path):
    kc = identity_kubeconfig(rbac_sim, tmp_path / "alice.kubeconfig", "alice", token="alice-token")
    yes = kubectl(kc, "auth", "can-i", "list", "pods", "-n", "ml")
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    no = kubectl(kc, "auth", "can-i", "list", "pods", "--all-namespaces")
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    logs = kubectl(kc, "auth", "can-i", "get", "pods", "--subresource=log", "-n", "ml")
    assert logs.stdout.strip() == "yes"
    denied = kubectl(kc, "get", "nodes")
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        'Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" '
        'in API group "" at the cluster scope'
    )
    sre = identity_kubeconfig(rbac_sim, tmp_path / "bob.kubeconfig", "bob", ("sre",), token="bob-token")
    assert kubectl(sre, "get", "nodes", "-o", "name").stdout.split() == ["node/gpu-a", "node/gpu-b"]


def test_serve_refuses_a_malformed_user(capsys):
    from gputui.cli import main

    assert main(["sim", "serve", "--user", "alice"]) == 5
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "gputui: error: --user 'alice': expected NAME=TOKEN or NAME:GROUP[,GROUP..]=TOKEN"
    assert err[1].startswith("  hint: e.g. --user alice=s3cret")


@needs_kubectl
def test_kubectl_lists_roles_and_bindings_as_the_api_server_prints_them(rbac_sim):
    out = kubectl(rbac_sim.kubeconfig, "get", "clusterrolebindings", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert rows["sre-nodes"][1] == "ClusterRole/node-reader" and rows["sre-nodes"][3] == "sre"
    assert rows["robot-one-node"][3] == "ops/robot"
    out = kubectl(rbac_sim.kubeconfig, "get", "roles", "-n", "ml").stdout.splitlines()
    assert out[0].split() == ["NAME", "CREATED", "AT"] and out[1].split()[0] == "pod-reader"
    described = kubectl(rbac_sim.kubeconfig, "describe", "role", "pod-reader", "-n", "ml").stdout
    assert "pods/log" in described and "[get list]" in described


def test_serve_user_option_writes_a_kubeconfig_per_user(tmp_path):
    import signal
    from types import SimpleNamespace

    import yaml

    from gputui.commands.rbac import manifests

    roles = tmp_path / "roles.yaml"
    roles.write_text(manifests(["diagnose"], subjects=[user("alice")]))
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "gpu-a"}}))
    kubeconfig = tmp_path / "kubeconfig"
    proc = serve_process(str(nodes), str(roles), "--user", "alice:sre=s3cret", kubeconfig=kubeconfig)
    try:
        lines = []
        while not lines or "Ctrl-C to stop" not in lines[-1]:
            lines.append(proc.stderr.readline())
            assert lines[-1], "".join(lines)
        [line] = [x for x in lines if x.startswith("  user alice")]
        path = kubeconfig.with_name("kubeconfig.alice")
        assert line.strip() == f"user alice (groups sre), judged by the served RBAC: KUBECONFIG={path}"
        doc = yaml.safe_load(path.read_text())
        assert doc["users"][0]["user"] == {"token": "s3cret", "as": "alice", "as-groups": ["sre"]}
        assert path.stat().st_mode & 0o777 == 0o600
        host, port = doc["clusters"][0]["cluster"]["server"][len("http://") :].split(":")
        sim = SimpleNamespace(host=host, port=int(port))
        assert sim_http(sim, "GET", "/api/v1/nodes", token="s3cret")[0] == 200
        assert sim_http(sim, "DELETE", "/api/v1/nodes/gpu-a", token="s3cret")[0] == 403
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert not path.exists()  # removed with the simulator
