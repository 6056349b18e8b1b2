"""The nvidia-smi, nodeclass-settings and scheduling rules (checks/recognise_tools.py) on generated
variations of the real texts: other names, numbers, bus ids, zones, case and line breaks."""

from __future__ import annotations

import itertools
import random

import pytest

from checks.recognise import REMEDIES, recognise
from checks.recognise_tools import HEADLINE_MAX, headline

BUSES = ["0000:0B:00.0", "00000000:65:00.0", "0000:c1:00.0", "000:BA:80.0"]
NODEPOOLS = ["gpu", "gpu-nodepool", "x86-instance-store", "a100-spot"]


def read(text: str):
    got = recognise(text)
    assert got is not None, text
    assert got.remedy in REMEDIES
    assert len(got.headline) <= HEADLINE_MAX + 2
    return got


def wrap(text: str, width: int) -> str:
    """Break `text` at spaces near `width`, as a terminal or an issue editor would."""
    out, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) + 1 > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*out, line])


# -- nvidia-smi ----------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "$ nvidia-smi\n", "root@gpu-pod:/# nvidia-smi\n"])
@pytest.mark.parametrize("quote", ["'", "‘", "’"])
def test_driver_not_loaded(prompt, quote):
    text = (
        f"{prompt}NVIDIA-SMI has failed because it couldn{quote}t communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and running."
    )
    got = read(text)
    assert (got.family, got.cause, got.subject, got.remedy) == (
        "nvidia-smi",
        "driver-not-loaded",
        "Node",
        "load-nvidia-driver",
    )


@pytest.mark.parametrize("version", ["470.57", "535.129.03", "570.195", "550.144"])
@pytest.mark.parametrize("case", [str, str.upper])
def test_version_mismatch_reads_the_library_version(version, case):
    text = case("Failed to initialize NVML: Driver/library version mismatch") + f"\nNVML library version: {version}"
    got = read(text)
    assert got.remedy == "reboot-after-driver-upgrade"
    assert got.facts["nvml_library_version"] == version
    assert "version mismatch" in got.headline.lower()


@pytest.mark.parametrize("bus", BUSES)
@pytest.mark.parametrize("space", ["", " "])
@pytest.mark.parametrize("verb", ["determine", "detect"])
def test_device_handle_names_the_bus_and_never_blames_access(bus, space, verb):
    got = read(f"Unable to {verb} the device handle for GPU{space}{bus}: Unknown Error")
    assert (got.cause, got.subject, got.remedy) == ("device-handle-error", "Node", "drain-and-inspect-gpu")
    assert got.facts["bus_id"] == bus and bus in got.headline
    lost = read(f"Unable to {verb} the device handle for GPU{space}{bus}: GPU is lost.  Reboot the system")
    assert (lost.cause, lost.remedy) == ("gpu-lost", "replace-gpu-node")


@pytest.mark.parametrize(
    "text, cause, remedy",
    [
        ("Failed to initialize NVML: Insufficient Permissions", "nvml-no-permission", "grant-gpu-device-access"),
        ("NVMLError_NoPermission: Insufficient Permissions", "nvml-no-permission", "grant-gpu-device-access"),
        (
            "Failed to initialize NVML: GPU access blocked by the operating system",
            "gpu-access-blocked",
            "allow-gpu-device-cgroup",
        ),
        (
            "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system.",
            "nvml-library-missing",
            "mount-driver-libraries",
        ),
    ],
)
def test_access_failures_are_about_the_pod_not_a_lost_gpu(text, cause, remedy):
    for variant in (text, text.lower(), f"# nvidia-smi\n{text}\n", f"[train] [nvidia-smi(stdout)] {text}"):
        got = read(variant)
        assert (got.family, got.cause, got.subject, got.remedy) == ("nvidia-smi", cause, "Pod", remedy)
        assert got.remedy not in ("replace-gpu-node", "drain-and-inspect-gpu")


def test_nvml_unknown_error_is_a_container_that_lost_its_gpus():
    """Plain NVML "Unknown Error" in a running container is the runtime-hook family's (device cgroup
    lost after a daemon-reload), not a lost GPU; the device-handle form names a GPU and stays here."""
    for variant in (
        "Failed to initialize NVML: Unknown Error",
        "# nvidia-smi\nfailed to initialize nvml: unknown error\n",
    ):
        got = recognise(variant)
        assert got is not None and (got.family, got.subject, got.remedy) == (
            "runtime-hook",
            "Node",
            "fix-cgroup-device-access",
        )


def test_slowdown_reasons_in_q_text_and_xml():
    q = (
        "    Clocks Event Reasons\n        Idle                              : Not Active\n"
        "        HW Slowdown                       : Active\n"
        "            HW Thermal Slowdown           : Not Active\n"
        "            HW Power Brake Slowdown       : Active\n"
        "        SW Thermal Slowdown               : Not Active\n"
    )
    got = read(q)
    assert (got.cause, got.remedy) == ("power-brake", "check-gpu-power-cooling")
    assert got.facts["slowdowns"] == ["HW Slowdown", "HW Power Brake Slowdown"]
    xml = "<clocks_throttle_reasons><clocks_throttle_reason_sw_thermal_slowdown>Active</clocks_throttle_reason_sw_thermal_slowdown></clocks_throttle_reasons>"
    assert read(xml).cause == "thermal-slowdown"
    assert recognise(q.replace(": Active", ": Not Active")) is None


def test_err_cells_in_the_table():
    row = "| N/A   29C    P0   ERR! / 250W |    593MiB / 16160MiB |      0%      Default |"
    assert read(row).remedy == "recheck-gpu-sensors"
    fan = "| ERR!  45C    P2    88W / 300W |  11125MiB / 23028MiB |     98%      Default |"
    assert read(fan).cause == "err-cell"


# -- nodeclass-settings -------------------------------------------------------------------------


@pytest.mark.parametrize("n, other", [(1, 6), (3, 0), (2, 11)])
@pytest.mark.parametrize("width", [0, 60])
def test_too_many_pods_is_the_nodeclass_pod_limit(n, other, width):
    rest = f", {other} node(s) didn't match Pod's node affinity/selector" if other else ""
    text = (
        f"0/{n + other} nodes are available: {n} Too many pods{rest}. preemption: 0/{n + other} nodes are "
        f"available: {n} No preemption victims found for incoming pod, {other} Preemption is not helpful for scheduling."
    )
    got = read(wrap(text, width) if width else text)
    assert (got.family, got.subject, got.remedy) == ("nodeclass-settings", "EC2NodeClass", "raise-max-pods")
    assert "Too many pods" in got.headline


def test_too_many_pods_beside_insufficient_gpu_is_scheduling():
    got = read("0/4 nodes are available: 1 Too many pods, 3 Insufficient nvidia.com/gpu.")
    assert (got.family, got.remedy) == ("scheduling", "check-gpu-capacity")


@pytest.mark.parametrize(
    "text",
    [
        "Pod Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110",
        "nginx2   0/1     OutOfpods   0          102s",
        "PodFitsResources predicate mismatch, reason: Insufficient pods",
        "0/2 nodes are available: 2 Insufficient pods.",
    ],
)
def test_kubelet_and_autoscaler_pod_limit_wordings(text):
    got = read(text)
    assert (got.family, got.remedy) == ("nodeclass-settings", "raise-max-pods")


# -- scheduling: kube-scheduler ------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["nvidia.com/gpu", "k8s.amazonaws.com/vgpu"])
@pytest.mark.parametrize("word", ["Insufficient", "insufficient"])
@pytest.mark.parametrize(
    "end", ["", ".", "..", ". preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."]
)
def test_insufficient_gpu_any_wording(resource, word, end):
    got = read(f"0/3 nodes are available: 3 {word} {resource}{end}")
    assert (got.family, got.cause, got.subject, got.remedy) == (
        "scheduling",
        "insufficient-gpu",
        "NodePool",
        "check-gpu-capacity",
    )
    assert got.facts["resource"] == resource and resource in got.headline


@pytest.mark.parametrize("word", ["Insufficient", "insufficient"])
@pytest.mark.parametrize("end", ["", ".", ". preemption: 0/3 nodes are available: 3 Preemption is not helpful.."])
def test_insufficient_mig_slices_are_a_mig_question(word, end):
    """No node offers the MIG slice: the MIG family (strategy, mig.config) reads it, not plain capacity."""
    got = read(f"0/3 nodes are available: 3 {word} nvidia.com/mig-1g.10gb{end}")
    assert got.family == "nvswitch-mig" and "mig-1g.10gb" in got.headline


@pytest.mark.parametrize("head", ["0/42 nodes available: ", "0/42 nodes are available: 42 "])
def test_older_and_newer_heads(head):
    got = read(head + "insufficient cpu")
    assert (got.cause, got.remedy, got.facts["resource"]) == ("insufficient-resources", "check-node-capacity", "cpu")


@pytest.mark.parametrize(
    "clause, key",
    [
        ("node(s) had untolerated taint {nvidia.com/gpu: }", "nvidia.com/gpu"),
        ("node(s) had untolerated taint {nvidia.com/gpu: present}", "nvidia.com/gpu"),
        ("node(s) had taint {nvidia.com/gpu: true}, that the pod didn't tolerate", "nvidia.com/gpu"),
        ("node(s) had taints that the pod didn't tolerate", None),
    ],
)
@pytest.mark.parametrize("prefix", ["", "Warning  FailedScheduling  14m (x3 over 14m)  default-scheduler  "])
def test_untolerated_taint_every_scheduler_wording(clause, key, prefix):
    got = read(f"{prefix}0/2 nodes are available: 2 {clause}.")
    assert (got.cause, got.subject, got.remedy) == ("untolerated-taint", "Pod", "tolerate-nodepool-taint")
    assert got.facts.get("taint") == key


def test_histogram_without_its_head_and_wrapped_clauses():
    got = read("FailedScheduling 2m21s default-scheduler 1 node(s) had untolerated taint {nvidia.com/gpu: present}")
    assert got.remedy == "tolerate-nodepool-taint"
    wrapped = (
        "0/5 nodes are available: 2 node(s) had untolerated taint {nvidia.com/gpu: },\n3 Insufficient nvidia.com/gpu."
    )
    assert read(wrapped).remedy == "check-gpu-capacity"


@pytest.mark.parametrize("n", [1, 3, 12])
def test_unbound_pvc(n):
    got = read(f"0/{n} nodes are available: {n} pod has unbound immediate PersistentVolumeClaims.")
    assert (got.subject, got.remedy) == ("PersistentVolumeClaim", "bind-pvc")


# -- scheduling: Karpenter ----------------------------------------------------------------------


def _old_form(pool: str, gpus: int, zone: str) -> str:
    return (
        f'incompatible with nodepool "{pool}", daemonset overhead={{"cpu":"185m","memory":"240Mi","pods":"7"}}, '
        f'no instance type satisfied resources {{"cpu":"185m","memory":"240Mi","nvidia.com/gpu":"{gpus}","pods":"8"}} '
        f"and requirements karpenter.sh/capacity-type In [on-demand spot], karpenter.sh/nodepool In [{pool}], "
        f"topology.kubernetes.io/zone In [{zone}], node.kubernetes.io/instance-type In [g5.xlarge g6.xlarge] "
        "(no instance type met all requirements)"
    )


@pytest.mark.parametrize("pool, gpus, zone", itertools.product(NODEPOOLS, [1, 4, 8], ["us-east-1a", "eu-west-2c"]))
@pytest.mark.parametrize("prefix", ["", "Could not schedule pod, ", "Failed to schedule pod, "])
def test_karpenter_no_instance_type_names_the_nodepool(pool, gpus, zone, prefix):
    got = read(prefix + _old_form(pool, gpus, zone))
    assert (got.family, got.cause, got.subject, got.remedy) == (
        "scheduling",
        "no-instance-type",
        f"NodePool/{pool}",
        "widen-nodepool-instance-types",
    )
    assert got.facts["nodepool"] == pool and got.facts["gpus"] == str(gpus)


def test_karpenter_json_log_line_with_escaped_quotes():
    msg = "Could not schedule pod, " + _old_form("gpu", 1, "us-west-2b")
    line = (
        '{"level":"ERROR","logger":"controller.provisioner","message":"'
        + msg.replace('"', '\\"')
        + '","commit":"17d6c05","pod":"ml/train-0"}'
    )
    got = read(line)
    assert (got.subject, got.facts["nodepool"]) == ("NodePool/gpu", "gpu")


def test_karpenter_bare_v1_error_reads_the_nodepool_from_requirements():
    text = (
        "no instance type met the scheduling requirements or had a required offering, requirements="
        "karpenter.sh/capacity-type In [on-demand], karpenter.sh/nodepool In [gpu-a100], "
        'nvidia.com/gpu.product In [A100], resources={"cpu":"4180m","nvidia.com/gpu":"8","pods":"7"}'
    )
    got = read(text)
    assert (got.subject, got.facts["gpus"]) == ("NodePool/gpu-a100", "8")
    assert "no instance type met" in got.headline


def test_karpenter_taint_and_requirements():
    taint = read(
        'Could not schedule pod, incompatible with nodepool "gpu", daemonset overhead={"cpu":"1"}, did not tolerate nvidia.com/gpu=true:NoSchedule'
    )
    assert (taint.cause, taint.subject, taint.facts["taint"]) == ("untolerated-taint", "Pod", "nvidia.com/gpu")
    req = read(
        'incompatible with nodepool "default", daemonset overhead={"cpu":"675m"}, incompatible requirements, label "nodegroup" does not have known values'
    )
    assert (req.subject, req.remedy, req.facts["label"]) == (
        "NodePool/default",
        "align-pod-nodepool-requirements",
        "nodegroup",
    )


def test_headline_keeps_the_key_token():
    key = "did not tolerate nvidia.com/gpu=true:NoSchedule"
    h = headline("Karpenter: NodePool " + "x" * 300, key)
    assert h.endswith(key) and len(h) <= HEADLINE_MAX
    assert headline("", "k") == "k"


# -- never raises, never reads noise ------------------------------------------------------------


def test_rules_never_raise_on_noise():
    rnd = random.Random(7)
    pieces = [
        "0/",
        "nodes are available:",
        "Insufficient",
        "nvidia.com/gpu",
        "Too many pods",
        "incompatible with nodepool",
        '"',
        "{",
        "}",
        "daemonset overhead=",
        "no instance type",
        "NVML",
        "Unable to determine the device handle for GPU",
        "ERR!",
        "|",
        "HW Slowdown",
        ": Active",
        "\n",
        ", ",
        "; ",
        "..",
        "requirements=",
        "resources=",
    ]
    for _ in range(3000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14)))
        recognise(text)  # must not raise


@pytest.mark.parametrize(
    "text",
    [
        "Successfully assigned default/gpu-0 to ip-10-0-1-2.ec2.internal",
        "Pulled image nvidia/cuda:12.4.0-base in 2.1s",
        "nvidia-smi -q | grep -A8 'Clocks Throttle'",
        "HW Slowdown : Not Active",
        "0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    ],
)
def test_healthy_texts_are_not_failures(text):
    got = recognise(text)
    assert got is None or got.family not in ("nvidia-smi", "nodeclass-settings", "scheduling")


@pytest.mark.parametrize(
    "predicate, remedy",
    [
        ("PodToleratesNodeTaints", "tolerate-nodepool-taint"),
        ("PodFitsResources", "check-node-capacity"),
        ("MatchNodeSelector", "fix-node-selector"),
        ("NoVolumeZoneConflict", "match-volume-zone"),
    ],
)
@pytest.mark.parametrize(
    "template",
    [
        "pod (x) failed to fit in any node\nfit failure summary on nodes : {p} (3)",
        "Failed for reason {p} and possibly others",
    ],
)
def test_pre_1_6_scheduler_predicate_names(predicate, remedy, template):
    assert read(template.format(p=predicate)).remedy == remedy


@pytest.mark.parametrize(
    "text",
    [
        "nvidia-container-cli: initialization error: nvml error: driver/library version mismatch: unknown",
        "error running hook #0: error running hook: exit status 1, stdout: , stderr: nvidia-container-cli: "
        "initialization error: nvml error: insufficient permissions: unknown",
        "NVRM: Xid (PCI:0000:00:1e): 79, pid=1234, GPU has fallen off the bus.",
    ],
)
def test_runtime_hook_and_kernel_texts_are_left_to_their_families(text):
    got = recognise(text)
    assert got is None or got.family != "nvidia-smi"
