"""The simulator's scheduler and kubelet: through the store with a controlled clock, and
over HTTP with the kubernetes client against a running simulator."""

from __future__ import annotations

import csv
import io
import re

import pytest

from gputui.sim import behaviour, gpu_facts, scheduler
from gputui.sim.behaviour import Simulation
from gputui.sim.scheduler import choose_node, fit_error, node_usage
from gputui.sim.store import Store
from tests.helpers.wait import wait_until

T0 = 1_795_000_000.0


# -- builders ------------------------------------------------------------------------------


def make_node(
    name: str,
    *,
    gpus: int = 1,
    instance_type: str = "g5.xlarge",
    taints=(),
    labels=None,
    annotations=None,
    ready: str = "True",
    unschedulable: bool = False,
    pods: int = 58,
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "node.kubernetes.io/instance-type": instance_type,
                "kubernetes.io/hostname": name,
                **(labels or {}),
            },
            "annotations": dict(annotations or {}),
        },
        "spec": {"taints": list(taints), **({"unschedulable": True} if unschedulable else {})},
        "status": {
            "allocatable": {"cpu": "3920m", "memory": "14162Mi", "pods": str(pods), "nvidia.com/gpu": str(gpus)},
            "capacity": {"cpu": "4", "memory": "15896Mi", "pods": str(pods), "nvidia.com/gpu": str(gpus)},
            "conditions": [{"type": "Ready", "status": ready}],
            "addresses": [{"type": "InternalIP", "address": f"10.0.7.{len(name)}"}],
        },
    }


def make_pod(
    name: str, *, command=("sleep", "3600"), gpus: int = 0, node: str = "", namespace: str = "default", **spec
) -> dict:
    container = {"name": "main", "image": "public.ecr.aws/docker/library/busybox:1.36", "command": list(command)}
    if gpus:
        container["resources"] = {"limits": {"nvidia.com/gpu": str(gpus)}}
    if node:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container], **spec},
    }


def smi_pod(name: str, node: str, script: str, **spec) -> dict:
    return make_pod(
        name,
        node=node,
        command=("sh", "-c", script),
        restartPolicy="Never",
        tolerations=[{"operator": "Exists"}],
        **spec,
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world():
    store = Store()
    clock = Clock()
    sim = Simulation(store, clock=clock)

    class World:
        def __init__(self):
            self.store, self.clock, self.sim = store, clock, sim
            self.pods = store.type_for("v1", "Pod")
            self.nodes = store.type_for("v1", "Node")
            self.events = store.type_for("v1", "Event")

        def run(self, seconds: float = 1.0, tick: float = 0.05) -> None:
            end = self.clock.now + seconds
            while self.clock.now < end:
                self.sim.step()
                self.clock.now += tick
            self.sim.step()

        def pod(self, name: str, namespace: str = "default") -> dict:
            return store.get(self.pods, namespace, name)

        def events_for(self, name: str) -> list[dict]:
            items, _ = store.list(self.events)
            return [e for e in items if e["involvedObject"]["name"] == name]

    yield World()
    sim.stop()


def _condition(pod: dict, type_: str) -> dict:
    return next(c for c in pod["status"]["conditions"] if c["type"] == type_)


# -- the scheduler's decision (pure) -----------------------------------------------------------------


def test_choose_node_filters_like_kube_scheduler():
    gpu = {"pool": "gpu"}
    nodes = [
        make_node("cordoned", unschedulable=True, labels=gpu),
        make_node("tainted", taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}], labels=gpu),
        make_node("not-ready", ready="False", labels=gpu),
        make_node("cpu-only", gpus=0, labels={"pool": "cpu"}),
        make_node("gpu-full", labels=gpu),
    ]
    busy = make_pod("busy", gpus=1, node="gpu-full")
    usage = node_usage([busy])
    chosen, message = choose_node(make_pod("want-gpu", gpus=1, nodeSelector=gpu), nodes, usage)
    assert chosen is None
    # One reason per node (the first failing filter), sorted as whole strings.
    assert message == (
        "0/5 nodes are available: 1 Insufficient nvidia.com/gpu, "
        "1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
        "1 node(s) had untolerated taint {nvidia.com/gpu: }, 1 node(s) were unschedulable. "
        "preemption: 0/5 nodes are available: 1 No preemption victims found for incoming pod, "
        "4 Preemption is not helpful for scheduling."
    )


def test_choose_node_counts_insufficient_resources_and_prefers_least_allocated():
    nodes = [make_node("a", gpus=1), make_node("b", gpus=1), make_node("c", gpus=4)]
    pods = [make_pod("x", gpus=1, node="a"), make_pod("y", gpus=1, node="b")]
    usage = node_usage(pods)
    chosen, message = choose_node(make_pod("want", gpus=2), nodes, usage)
    assert chosen == "c" and message == ""
    chosen, message = choose_node(make_pod("want", gpus=5), nodes, usage)
    assert chosen is None
    assert message == (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. "
        "preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )
    # Tolerations and required node affinity let a pod in; CPU pods go to the least loaded node.
    tainted = make_node(
        "t",
        taints=[{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
        labels={"karpenter.sh/nodepool": "gpu"},
    )
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "In", "values": ["gpu"]}]}
                ]
            }
        }
    }
    pod = make_pod(
        "p",
        gpus=1,
        affinity=affinity,
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    assert choose_node(pod, nodes + [tainted], usage) == ("t", "")


def test_fit_error_histogram_sorts_whole_strings_and_handles_no_nodes():
    rejections = {f"n{i}": (["Insufficient cpu"], True) for i in range(10)}
    rejections["m"] = (["node(s) were unschedulable"], False)
    rejections["k"] = (["Insufficient cpu", "Insufficient memory"], True)
    assert fit_error(12, rejections) == (
        "0/12 nodes are available: 1 Insufficient memory, 1 node(s) were unschedulable, 11 Insufficient cpu. "
        "preemption: 0/12 nodes are available: 1 Preemption is not helpful for scheduling, "
        "11 No preemption victims found for incoming pod."
    )
    assert choose_node(make_pod("p"), [], {}) == (None, "no nodes available to schedule pods")


def test_messages_match_real_scheduler_examples(reference):
    text = (reference / "messages.md").read_text()
    # Real events from v1.26-era clusters end in ".." (the old separator); current ones in ".".
    examples = [m.rstrip(".") + "." for m in re.findall(r"`(0/1 nodes are available: [^`]*preemption:[^`]*)`", text)]
    gpu_example = next(e for e in examples if "Insufficient nvidia.com/gpu" in e)
    taint_example = next(e for e in examples if "control-plane" in e)
    full = make_node("a", gpus=1)
    _, message = choose_node(make_pod("p", gpus=1), [full], node_usage([make_pod("x", gpus=1, node="a")]))
    assert message == gpu_example
    control_plane = make_node("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    _, message = choose_node(make_pod("p"), [control_plane], {})
    assert message == taint_example


def test_kubelet_admission_failure_wording():
    node = make_node("a", gpus=1)
    used = node_usage([make_pod("x", gpus=1, node="a")])["a"]
    requests = scheduler.requests_of(make_pod("p", gpus=1))
    assert scheduler.admission_failure(requests, node, used) == (
        "UnexpectedAdmissionError",
        "Allocate failed due to requested number of devices unavailable for nvidia.com/gpu. "
        "Requested: 1, Available: 0, which is unexpected",
    )
    cpu_pod = make_pod("c")
    cpu_pod["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "8"}}
    reason, message = scheduler.admission_failure(scheduler.requests_of(cpu_pod), node, {})
    assert reason == "OutOfcpu"
    assert (
        message == "Pod was rejected: Node didn't have enough resource: cpu, requested: 8000, used: 0, capacity: 3920"
    )


# -- through the store ----------------------------------------------------------------------------


def test_pinned_pod_runs_with_realistic_status_and_events(world):
    world.store.create(make_node("gpu-a"))
    world.store.create(make_pod("web", node="gpu-a"))
    world.run(0.5)
    pod = world.pod("web")
    status = pod["status"]
    assert status["phase"] == "Running"
    assert status["hostIP"] == "10.0.7.5" and status["hostIPs"] == [{"ip": "10.0.7.5"}]
    assert re.fullmatch(r"10\.64\.\d+\.\d+", status["podIP"])
    assert status["startTime"] == behaviour.rfc3339(T0)
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    (cs,) = status["containerStatuses"]
    assert cs["ready"] is True and cs["restartCount"] == 0 and "running" in cs["state"]
    assert re.fullmatch(r"containerd://[0-9a-f]{64}", cs["containerID"])
    assert re.fullmatch(r"public\.ecr\.aws/docker/library/busybox@sha256:[0-9a-f]{64}", cs["imageID"])
    reasons = [(e["reason"], e["message"], e["source"]) for e in world.events_for("web")]
    assert reasons == [
        (
            "Pulled",
            'Container image "public.ecr.aws/docker/library/busybox:1.36" already present on machine',
            {"component": "kubelet", "host": "gpu-a"},
        ),
        ("Created", "Created container: main", {"component": "kubelet", "host": "gpu-a"}),
        ("Started", "Started container main", {"component": "kubelet", "host": "gpu-a"}),
    ]
    assert world.events_for("web")[0]["involvedObject"]["fieldPath"] == "spec.containers{main}"


def test_scheduled_pod_gets_scheduled_event_and_node(world):
    world.store.create(make_node("cpu-1", gpus=0))
    world.store.create(make_node("gpu-1", gpus=1))
    world.store.create(make_pod("train", gpus=1, namespace="ml"))
    world.run(0.5)
    pod = world.pod("train", "ml")
    assert pod["spec"]["nodeName"] == "gpu-1"
    assert pod["status"]["phase"] == "Running"
    scheduled = world.events_for("train")[0]
    assert (scheduled["reason"], scheduled["type"], scheduled["message"], scheduled["source"]) == (
        "Scheduled",
        "Normal",
        "Successfully assigned ml/train to gpu-1",
        {"component": "default-scheduler"},
    )


def test_unschedulable_pod_stays_pending_and_is_retried_when_nodes_change(world):
    world.store.create(make_node("gpu-1", taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]))
    world.store.create(make_pod("stuck", gpus=1))
    world.run(0.5)
    pod = world.pod("stuck")
    expected = (
        "0/1 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: }. "
        "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
    )
    assert pod["status"]["phase"] == "Pending"
    assert "nodeName" not in pod["spec"]
    cond = _condition(pod, "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", expected)
    (event,) = world.events_for("stuck")
    assert (event["type"], event["reason"], event["message"], event["count"], event["source"]) == (
        "Warning",
        "FailedScheduling",
        expected,
        1,
        {"component": "default-scheduler"},
    )
    # A node change makes the scheduler try again: same message, counted instead of duplicated.
    world.store.patch(world.nodes, None, "gpu-1", "merge", {"metadata": {"labels": {"touched": "yes"}}})
    world.run(0.2)
    (event,) = world.events_for("stuck")
    assert event["count"] == 2
    # A node that fits arrives: the pod is bound and runs.
    world.store.create(make_node("gpu-2"))
    world.run(0.5)
    pod = world.pod("stuck")
    assert pod["spec"]["nodeName"] == "gpu-2" and pod["status"]["phase"] == "Running"


def test_gpu_pod_waits_for_a_free_gpu_and_takes_it_when_freed(world):
    world.store.create(make_node("gpu-1", gpus=1))
    world.store.create(make_pod("first", gpus=1))
    world.run(0.3)
    world.store.create(make_pod("second", gpus=1))
    world.run(0.3)
    second = world.pod("second")
    assert second["status"]["phase"] == "Pending"
    assert _condition(second, "PodScheduled")["message"] == (
        "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. "
        "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."
    )
    world.store.delete(world.pods, "default", "first")
    world.run(0.5)
    second = world.pod("second")
    assert second["spec"]["nodeName"] == "gpu-1" and second["status"]["phase"] == "Running"


def test_pinned_gpu_pod_on_full_node_is_rejected_by_kubelet(world):
    world.store.create(make_node("gpu-1", gpus=1))
    world.store.create(make_pod("holder", gpus=1, node="gpu-1"))
    world.run(0.3)
    world.store.create(make_pod("late", gpus=1, node="gpu-1"))
    world.run(0.3)
    status = world.pod("late")["status"]
    assert (status["phase"], status["reason"]) == ("Failed", "UnexpectedAdmissionError")
    assert world.pod("holder")["status"]["phase"] == "Running"


def test_nvidia_smi_pod_on_healthy_node_succeeds_with_parseable_log(world):
    world.store.create(make_node("gpu-a", instance_type="g5.12xlarge", gpus=4))
    world.store.create(
        smi_pod(
            "debug",
            "gpu-a",
            'echo "=== gputui:query-gpu ==="\nnvidia-smi --query-gpu=index,name,uuid,memory.total --format=csv',
        )
    )
    world.run(0.1)
    assert world.pod("debug")["status"]["phase"] == "Running"
    world.run(0.5)
    status = world.pod("debug")["status"]
    assert status["phase"] == "Succeeded"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert _condition(world.pod("debug"), "Ready")["reason"] == "PodCompleted"
    log = world.store.get_log("default", "debug", "main")
    marker, body = log.split("\n", 1)
    assert marker == "=== gputui:query-gpu ==="
    rows = list(csv.DictReader(io.StringIO(body), skipinitialspace=True))
    assert [r["index"] for r in rows] == ["0", "1", "2", "3"]
    assert {r["name"] for r in rows} == {"NVIDIA A10G"}
    assert {r["memory.total [MiB]"] for r in rows} == {"23028 MiB"}


def test_nvidia_smi_pod_on_driver_not_loaded_node_fails_with_exit_9(world):
    world.store.create(make_node("gpu-bad", annotations={"sim.gputui.dev/nvidia-smi": "driver-not-loaded"}))
    world.store.create(smi_pod("debug", "gpu-bad", "chroot /host nvidia-smi"))
    world.run(0.6)
    status = world.pod("debug")["status"]
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (9, "Error")
    assert world.store.get_log("default", "debug", "main") == (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running.\n"
    )


def test_missing_nvidia_smi_binary_is_a_start_error(world):
    world.store.create(make_node("gpu-x", annotations={"sim.gputui.dev/nvidia-smi": "not-found"}))
    world.store.create(make_pod("exec", node="gpu-x", command=("nvidia-smi",), restartPolicy="Never"))
    world.run(0.5)
    status = world.pod("exec")["status"]
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    failed = [e for e in world.events_for("exec") if e["reason"] == "Failed"]
    assert failed and 'exec: "nvidia-smi": executable file not found in $PATH' in failed[0]["message"]


def test_nvidia_smi_with_restart_always_crash_loops(world):
    world.store.create(make_node("gpu-bad", annotations={"sim.gputui.dev/nvidia-smi": "nvml-unknown-error"}))
    world.store.create(make_pod("loop", node="gpu-bad", command=("nvidia-smi",)))
    world.run(0.6)
    status = world.pod("loop")["status"]
    assert status["phase"] == "Running"
    (cs,) = status["containerStatuses"]
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["exitCode"] == 255
    assert cs["restartCount"] == 1
    assert world.store.get_log("default", "loop", "main", previous=True) == gpu_facts.MSG_NVML_UNKNOWN + "\n"
    assert any(e["reason"] == "BackOff" for e in world.events_for("loop"))


def test_active_deadline_fails_pod_with_deadline_exceeded(world):
    world.store.create(make_node("gpu-a"))
    world.store.create(make_pod("slow", node="gpu-a", activeDeadlineSeconds=2, restartPolicy="Never"))
    world.run(1.5)
    assert world.pod("slow")["status"]["phase"] == "Running"
    world.run(1.0)
    status = world.pod("slow")["status"]
    assert (status["phase"], status["reason"], status["message"]) == (
        "Failed",
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )
    assert status["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 137
    assert any(e["reason"] == "DeadlineExceeded" for e in world.events_for("slow"))


def test_sleep_completes_for_run_once_pods(world):
    world.store.create(make_node("n1", gpus=0))
    world.store.create(make_pod("job", node="n1", command=("sh", "-c", "sleep 3"), restartPolicy="Never"))
    world.run(2.0)
    assert world.pod("job")["status"]["phase"] == "Running"
    world.run(1.5)
    assert world.pod("job")["status"]["phase"] == "Succeeded"


def test_scripted_pods_keep_their_state():
    store = Store()
    scripted = make_pod("scripted", gpus=1)
    scripted["status"] = {
        "phase": "Pending",
        "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "scripted message"}
        ],
    }
    unscripted = make_pod("fresh", node="gpu-a")
    store.bulk_load([make_node("gpu-a", gpus=4), scripted, unscripted])
    clock = Clock()
    sim = Simulation(store, clock=clock)
    try:
        for _ in range(10):
            sim.step()
            clock.now += 0.1
        pods = store.type_for("v1", "Pod")
        assert store.get(pods, "default", "scripted")["status"] == scripted["status"]
        assert "nodeName" not in store.get(pods, "default", "scripted")["spec"]
        assert store.get(pods, "default", "fresh")["status"]["phase"] == "Running"
        assert sim.managed("default", "fresh") and not sim.managed("default", "scripted")
        events, _ = store.list(store.type_for("v1", "Event"))
        assert {e["involvedObject"]["name"] for e in events} == {"fresh"}
    finally:
        sim.stop()


def test_terminating_pod_without_finalizers_is_removed_after_grace(world):
    world.store.create(make_node("gpu-a"))
    pod = make_pod("held", node="gpu-a")
    pod["metadata"]["finalizers"] = ["example.com/hold"]
    world.store.create(pod)
    world.run(0.3)
    world.store.delete(world.pods, "default", "held")
    world.run(0.3)
    assert world.pod("held")["metadata"]["deletionTimestamp"]  # a finalizer keeps it
    world.store.patch(world.pods, "default", "held", "merge", {"metadata": {"finalizers": None}})
    world.run(0.3)
    assert not world.store.list(world.pods)[0]


# -- over HTTP with the kubernetes client ----------------------------------------------------


@pytest.fixture
def live(start_sim, api_client_for):
    from kubernetes import client

    nodes = [
        make_node("gpu-good", instance_type="g5.12xlarge", gpus=4),
        make_node(
            "gpu-broken",
            annotations={"sim.gputui.dev/nvidia-smi": "driver-not-loaded"},
            taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
        ),
    ]
    sim = start_sim(objects=nodes, behaviour=True)
    api = client.CoreV1Api(api_client_for(sim))
    return api


def _phase(api, name: str, want: set[str]):
    def check():
        pod = api.read_namespaced_pod(name, "default")
        return pod if pod.status.phase in want else None

    return wait_until(check)


def test_http_pinned_pod_runs(live):
    live.create_namespaced_pod("default", make_pod("web", node="gpu-good"))
    pod = _phase(live, "web", {"Running"})
    assert pod is not None
    assert pod.status.container_statuses[0].ready is True
    assert pod.status.pod_ip and pod.status.host_ip == "10.0.7.8"


def test_http_nvidia_smi_pods_succeed_or_fail_per_node(live):
    live.create_namespaced_pod(
        "default", smi_pod("smi-good", "gpu-good", "nvidia-smi --query-gpu=index,uuid --format=csv,noheader")
    )
    live.create_namespaced_pod("default", smi_pod("smi-bad", "gpu-broken", "nvidia-smi"))
    good = _phase(live, "smi-good", {"Succeeded", "Failed"})
    bad = _phase(live, "smi-bad", {"Succeeded", "Failed"})
    assert good.status.phase == "Succeeded"
    log = live.read_namespaced_pod_log("smi-good", "default")
    rows = [r.split(", ") for r in log.splitlines()]
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert all(re.fullmatch(r"GPU-[0-9a-f-]{36}", r[1]) for r in rows)
    assert bad.status.phase == "Failed"
    assert bad.status.container_statuses[0].state.terminated.exit_code == 9
    assert live.read_namespaced_pod_log("smi-bad", "default").startswith(
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    )


def test_http_unschedulable_pod_gets_failed_scheduling_event(live):
    live.create_namespaced_pod("default", make_pod("too-big", gpus=8))
    expected = (
        "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, "
        "1 node(s) had untolerated taint {nvidia.com/gpu: }. preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."
    )

    def event():
        items = live.list_namespaced_event("default").items
        return [e for e in items if e.involved_object.name == "too-big" and e.reason == "FailedScheduling"]

    (ev,) = wait_until(event)
    assert (ev.type, ev.message, ev.source.component) == ("Warning", expected, "default-scheduler")
    pod = live.read_namespaced_pod("too-big", "default")
    assert pod.status.phase == "Pending"
    cond = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (cond.status, cond.reason) == ("False", "Unschedulable")


def test_http_gpu_pod_on_full_node_stays_pending(live):
    live.create_namespaced_pod("default", make_pod("all-four", gpus=4))
    assert _phase(live, "all-four", {"Running"}).spec.node_name == "gpu-good"
    live.create_namespaced_pod("default", make_pod("one-more", gpus=1))

    def pending_reason():
        pod = live.read_namespaced_pod("one-more", "default")
        conds = {c.type: c for c in pod.status.conditions or []}
        return (
            conds.get("PodScheduled") if "PodScheduled" in conds and conds["PodScheduled"].status == "False" else None
        )

    cond = wait_until(pending_reason)
    assert cond is not None and cond.message.startswith("0/2 nodes are available: 1 Insufficient nvidia.com/gpu")
    assert live.read_namespaced_pod("one-more", "default").status.phase == "Pending"


def test_http_active_deadline(live):
    live.create_namespaced_pod(
        "default", make_pod("deadline", node="gpu-good", activeDeadlineSeconds=1, restartPolicy="Never")
    )
    pod = _phase(live, "deadline", {"Failed"})
    assert (pod.status.reason, pod.status.message) == (
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )


def test_kubelet_admits_pinned_pods_in_order(world):
    world.store.create(make_node("gpu-1", gpus=1))
    world.store.create(make_pod("first", gpus=1, node="gpu-1"))
    world.store.create(make_pod("second", gpus=1, node="gpu-1"))
    world.run(0.3)
    assert world.pod("first")["status"]["phase"] == "Running"
    assert world.pod("second")["status"]["reason"] == "UnexpectedAdmissionError"


def test_terminating_pod_is_removed_after_short_grace():
    store = Store()
    doomed = make_pod("doomed", node="gpu-a")
    doomed["metadata"]["deletionTimestamp"] = "2026-11-30T00:00:00Z"
    store.bulk_load([make_node("gpu-a"), doomed])
    clock = Clock()
    sim = Simulation(store, clock=clock)
    try:
        pods = store.type_for("v1", "Pod")
        sim.step()
        assert store.count(pods) == 1  # still within its grace period
        clock.now += behaviour.DELETE_GRACE
        sim.step()
        assert store.count(pods) == 0
        assert not sim.managed("default", "doomed")
    finally:
        sim.stop()
