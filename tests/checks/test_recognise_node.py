"""Rules for kubelet GPU admission, the NVIDIA runtime hook, the GPU Operator driver, Bottlerocket and
NVSwitch/MIG texts, beyond the real-world corpus: the same failures with other names, numbers,
versions, spacing, case and line breaks, texts they must leave alone, and input they must survive."""

from __future__ import annotations

import itertools
import random
import textwrap

import pytest

from checks.recognise import REMEDIES, recognise, rules

NODE_FAMILIES = {"gpu-admission", "runtime-hook", "operator-driver", "bottlerocket", "nvswitch-mig"}


def _read(text: str):
    got = recognise(text)
    assert got is not None, text
    assert got.remedy in REMEDIES
    return got


# ---------------------------------------------------------------- gpu-admission


@pytest.mark.parametrize(
    ("resource", "requested", "available", "prefix", "sep"),
    list(
        itertools.product(
            ["nvidia.com/gpu", "nvidia.com/mig-1g.10gb", "nvidia.com/mig-3g.40gb"],
            [1, 4, 8],
            [0, 2],
            ["", "Pod ", "  Warning  UnexpectedAdmissionError  3s   kubelet  "],
            [" ", ""],
        )
    ),
)
def test_devices_unavailable_reads_resource_and_counts(resource, requested, available, prefix, sep):
    text = (
        f"{prefix}Allocate failed due to requested number of devices unavailable for {resource}. "
        f"Requested:{sep}{requested}, Available:{sep}{available}, which is unexpected"
    )
    got = _read(text)
    assert (got.family, got.subject, got.remedy) == ("gpu-admission", "Node", "resync-node-devices")
    assert got.facts == {"resource": resource, "requested": requested, "available": available}
    assert resource in got.headline and "UnexpectedAdmissionError" in got.headline


@pytest.mark.parametrize("index", [0, 1, 3, 7, 15])
@pytest.mark.parametrize("rpc", ["GetPreferredAllocation", "Allocate"])
def test_gpu_lost_names_the_device(index, rpc):
    text = (
        f"Pod Allocate failed due to device plugin {rpc} rpc failed with err: rpc error: code = Unknown "
        f"desc = Unable to retrieve list of available devices: error creating nvml.Device {index}: "
        "nvml: GPU is lost, which is unexpected"
    )
    got = _read(text)
    assert (got.family, got.remedy, got.facts["gpu_index"]) == ("gpu-admission", "replace-gpu-node", index)


@pytest.mark.parametrize(
    "desc",
    [
        "code = Unavailable desc = error reading from server: EOF",
        "code = Unavailable desc = transport is closing",
        'code = Unavailable desc = connection error: desc = "transport: Error while dialing"',
        "code = Unknown desc = failed to find gpu id",
    ],
)
def test_device_plugin_rpc_failures_point_at_the_plugin(desc):
    got = _read(f"Allocate failed due to rpc error: {desc}, which is unexpected")
    assert (got.family, got.subject, got.remedy) == ("gpu-admission", "Node", "check-node-device-plugin")


@pytest.mark.parametrize("resource", ["nvidia.com/gpu", "nvidia.com/mig-2g.20gb"])
def test_list_and_watch_ended_names_the_resource(resource):
    text = (
        'E0101 00:00:00.000000    1234 client.go:90] "ListAndWatch ended unexpectedly for device plugin" '
        f'err="rpc error: code = Unavailable desc = error reading from server: EOF" resource="{resource}"'
    )
    got = _read(text)
    assert got.remedy == "check-node-device-plugin" and got.facts["resource"] == resource


def test_admission_insufficient_permissions_is_the_device_plugins():
    got = _read(
        "Allocate failed due to device plugin GetPreferredAllocation rpc failed with err: rpc error: code = "
        "Unknown desc = Unable to retrieve list of available devices: error creating nvml.Device 2: nvml: "
        "Insufficient Permissions, which is unexpected"
    )
    assert (got.family, got.subject, got.remedy) == ("gpu-admission", "DaemonSet", "fix-device-plugin-nvml-access")


# ---------------------------------------------------------------- runtime-hook

HOOK_WRAPPERS = [
    "{}",
    "stderr: {}: unknown",
    "Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create "
    "failed: unable to start container process: error during container init: error running hook #0: error running "
    "hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy'\n{}: unknown",
    'Warning  Failed  12s (x3 over 40s)  kubelet  Error: failed to start container "cuda": {}',
]


@pytest.mark.parametrize("wrapper", HOOK_WRAPPERS)
@pytest.mark.parametrize(
    ("inner", "remedy_key"),
    [
        ("nvidia-container-cli: initialization error: nvml error: driver not loaded", "check-node-driver"),
        (
            "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open "
            "shared object file: no such file or directory",
            "check-node-driver-libraries",
        ),
        (
            "nvidia-container-cli.real: initialization error: nvml error: insufficient permissions",
            "fix-nvml-permissions",
        ),
        ("nvidia-container-cli: initialization error: driver error: failed to process request", "check-node-driver"),
        (
            "nvidia-container-cli: initialization error: nvml error: driver/library version mismatch",
            "reload-node-driver",
        ),
        (
            "nvidia-container-cli: ldcache error: open failed: /sbin/ldconfig: no such file or directory",
            "fix-toolkit-ldconfig",
        ),
    ],
)
def test_hook_errors_in_any_wrapping(wrapper, inner, remedy_key):
    got = _read(wrapper.format(inner))
    assert (got.family, got.subject, got.remedy) == ("runtime-hook", "Node", remedy_key)


@pytest.mark.parametrize(
    ("condition", "want"),
    [
        ("cuda>=12.4", "cuda>=12.4"),
        ("cuda >= 11.8", "cuda>=11.8"),
        ("driver>=535", "driver>=535"),
        ("cuda>=13.0", "cuda>=13.0"),
    ],
)
def test_cuda_requirement_reads_the_condition(condition, want):
    text = (
        "nvidia-container-cli: requirement error: unsatisfied condition: "
        f"{condition}, please update your driver to a newer version, or use an earlier cuda container: unknown"
    )
    got = _read(text)
    assert (got.family, got.subject, got.remedy, got.facts["required"]) == (
        "runtime-hook",
        "Pod",
        "match-cuda-to-driver",
        want,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Failed to initialize NVML: Unknown Error",
        "$ kubectl exec -it trainer-0 -- nvidia-smi\nFailed to initialize NVML: Unknown Error",
        "FAILED TO INITIALIZE NVML: UNKNOWN ERROR",
        "nvidia-smi got error about 'NVML initialize failed: Unknow'",
    ],
)
def test_running_pod_lost_its_gpus(text):
    got = _read(text)
    assert (got.family, got.cause, got.remedy) == ("runtime-hook", "lost-gpus", "fix-cgroup-device-access")


@pytest.mark.parametrize("sandbox", ["18073b779521", "dcd9f871b25e882d16fb4189b4ac0adca3f0240d"])
def test_missing_nvidia_runtime(sandbox):
    got = _read(
        f'Failed to create pod sandbox: rpc error: code = Unknown desc = unable to get OCI runtime for sandbox "{sandbox}": '
        'no runtime for "nvidia" is configured'
    )
    assert got.remedy == "fix-nvidia-runtime-config"


# ---------------------------------------------------------------- operator-driver

PULL_FORMS = [
    'Failed to pull image "nvcr.io/nvidia/driver:{tag}": rpc error: code = NotFound desc = failed to pull and unpack '
    'image "nvcr.io/nvidia/driver:{tag}": failed to resolve reference "nvcr.io/nvidia/driver:{tag}": '
    "nvcr.io/nvidia/driver:{tag}: not found",
    'Failed to pull image "nvcr.io/nvidia/driver:{tag}": rpc error: code = Unknown desc = Error response from daemon: '
    "manifest for nvcr.io/nvidia/driver:{tag} not found: manifest unknown: manifest unknown",
    'Back-off pulling image "nvcr.io/nvidia/driver:{tag}" ImagePullBackOff',
]


@pytest.mark.parametrize("form", PULL_FORMS)
@pytest.mark.parametrize("version", ["535.104.05", "550.90.07", "570.172.08"])
@pytest.mark.parametrize("os_tag", ["amzn2", "amzn2023"])
def test_amazon_linux_driver_tag_means_disable_the_driver(form, version, os_tag):
    got = _read(form.format(tag=f"{version}-{os_tag}"))
    assert (got.family, got.subject, got.remedy) == ("operator-driver", "ClusterPolicy", "disable-operator-driver")
    assert got.facts["os_tag"] == os_tag and got.facts["driver_version"] == version
    assert f"{version}-{os_tag}" in got.headline
    assert "restart the pod" not in got.remedy_text.lower()


@pytest.mark.parametrize("os_tag", ["rhel9.4", "ubuntu24.04", "sles15.5", "talosv1.7.0"])
def test_other_os_driver_tag_means_a_published_tag(os_tag):
    got = _read(PULL_FORMS[0].format(tag=f"550.54.14-{os_tag}"))
    assert (got.remedy, got.facts["os_tag"]) == ("use-published-driver-tag", os_tag)


@pytest.mark.parametrize("kernel", ["5.15.0-118-generic", "6.8.0-1015-aws", "5.15.0-1061-gke"])
def test_precompiled_tag_for_a_new_kernel_means_pin_the_image(kernel):
    got = _read(PULL_FORMS[0].format(tag=f"535-{kernel}-ubuntu22.04"))
    assert (got.family, got.subject, got.remedy, got.facts["kernel"]) == (
        "operator-driver",
        "EC2NodeClass",
        "pin-node-image",
        kernel,
    )


@pytest.mark.parametrize(
    ("kernel", "remedy_key", "subject"),
    [
        ("6.1.112-124.190.amzn2023.x86_64", "disable-operator-driver", "ClusterPolicy"),
        ("5.10.226-214.880.amzn2.x86_64", "disable-operator-driver", "ClusterPolicy"),
        ("6.8.0-1021-aws", "pin-node-image", "EC2NodeClass"),
        ("5.15.0-1070-aws", "pin-node-image", "EC2NodeClass"),
    ],
)
def test_kernel_failures_never_say_restart(kernel, remedy_key, subject):
    for body in (
        f"Starting installation of NVIDIA driver version 550.90.07 for Linux kernel version {kernel}\n"
        "Resolving Linux kernel version...\nCould not resolve Linux kernel version",
        f"make[1]: *** /lib/modules/{kernel}/build: No such file or directory. Stop.",
    ):
        got = _read(body)
        assert (got.family, got.subject, got.remedy, got.facts["kernel"]) == (
            "operator-driver",
            subject,
            remedy_key,
            kernel,
        )


# ---------------------------------------------------------------- bottlerocket


@pytest.mark.parametrize("release", ["1.19.2", "1.26.1", "1.40.0"])
def test_operator_driver_on_bottlerocket(release):
    got = _read(PULL_FORMS[0].format(tag=f"550.127.05-bottlerocket{release}"))
    assert (got.family, got.subject, got.remedy) == (
        "bottlerocket",
        "ClusterPolicy",
        "disable-operator-on-bottlerocket",
    )


@pytest.mark.parametrize("variant", ["aws-k8s-1.29-nvidia", "aws-k8s-1.32-nvidia"])
def test_bottlerocket_node_without_gpus(variant):
    text = (
        f"Allocatable:\n  cpu: 3920m\n  nvidia.com/gpu:   0\n  pods: 29\nOS Image:  Bottlerocket OS 1.30.0 ({variant})"
    )
    got = _read(text)
    assert (got.family, got.remedy) == ("bottlerocket", "check-bottlerocket-device-plugin")


def test_bottlerocket_lockdown_and_non_gpu_instance():
    lock = "driverdog[2088]: modprobe: ERROR: could not insert 'nvidia_uvm': Operation not permitted"
    none = "NVRM: No NVIDIA GPU found.\ndriverdog[1535]: modprobe: ERROR: could not insert 'nvidia': No such device"
    assert _read(lock).remedy == "relax-bottlerocket-lockdown"
    assert (_read(none).subject, _read(none).remedy) == ("NodePool", "nvidia-variant-on-gpu-instances-only")


# ---------------------------------------------------------------- nvswitch-mig


@pytest.mark.parametrize("width", [30, 45, 70, 200])
def test_error_802_survives_line_wrapping(width):
    text = textwrap.fill(
        "RuntimeError: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before calling "
        "NumCudaDevices() that might have already set an error? Error 802: system not yet initialized",
        width,
    )
    got = _read(text)
    assert (got.family, got.remedy) == ("nvswitch-mig", "start-fabric-manager")
    assert "802" in got.headline


@pytest.mark.parametrize("verb", ["don't", "doesn't", "don’t"])
@pytest.mark.parametrize(("fm", "drv"), [("535.183.01", "535.216.03"), ("570.86.15", "570.124.06")])
def test_fabric_manager_version_mismatch(verb, fm, drv):
    got = _read(
        f"nv-fabricmanager[99]: fabric manager NVIDIA GPU driver interface version {fm} {verb} match with driver "
        f"version {drv}. Please update with matching NVIDIA driver package."
    )
    assert got.remedy == "match-fabric-manager-version"
    assert got.facts == {"fabric_manager_version": fm, "driver_version": drv}


@pytest.mark.parametrize("strategy", ["single", "mixed"])
@pytest.mark.parametrize("form", ["--set mig.strategy={}", '"migStrategy": "{}",', "mig:\n  strategy: {}"])
def test_mig_strategy_is_read(strategy, form):
    text = "nvidia.com/gpu:  0\n" + form.format(strategy)
    if form.startswith("mig:"):
        text = "nvidia.com/mig-1g.10gb: 7\n" + "mig.strategy: " + strategy
    got = _read(text)
    assert (got.family, got.subject, got.remedy, got.facts["mig_strategy"]) == (
        "nvswitch-mig",
        "ClusterPolicy",
        "match-mig-strategy",
        strategy,
    )


@pytest.mark.parametrize("profile", ["1g.5gb", "1g.10gb", "2g.20gb", "3g.40gb", "1g.18gb+me"])
def test_insufficient_mig_resource(profile):
    got = _read(
        f"0/4 nodes are available: 4 Insufficient nvidia.com/mig-{profile}. preemption: 0/4 nodes are available"
    )
    assert (got.remedy, got.facts["resource"]) == ("match-mig-strategy", f"nvidia.com/mig-{profile}")


@pytest.mark.parametrize(
    "text",
    [
        "nvidia.com/mig.config.state=failed",
        "nvidia.com/mig.config.state: failed",
        'level=error msg="Error: failed to validate MIG configuration: exit status 1"',
    ],
)
def test_mig_config_failures(text):
    assert _read(text).remedy == "fix-mig-config"


# ---------------------------------------------------------------- what the rules leave alone


@pytest.mark.parametrize(
    "text",
    [
        "Successfully assigned ml-serving/llm-chat-7d9f to ip-10-0-1-2.us-west-2.compute.internal",
        "Started container nvidia-driver-ctr",
        "I0101 00:00:00.000000 1 main.go:154] Starting FS watcher.",
        "Registered device plugin for 'nvidia.com/gpu' with Kubelet",
        "nvidia.com/mig.config.state=success",
        "OS Image:  Bottlerocket OS 1.30.0 (aws-k8s-1.32-nvidia)",
        'Pulling image "nvcr.io/nvidia/driver:570.172.08-ubuntu22.04"',
        'Successfully pulled image "nvcr.io/nvidia/driver:550.90.07-ubuntu22.04" in 12.1s',
        "nvidia.com/gpu: 8\npods: 110",
        "Fabric Manager started successfully",
    ],
)
def test_healthy_texts_are_not_recognised(text):
    got = recognise(text)
    assert got is None or got.family not in NODE_FAMILIES, got


def test_rules_never_raise_on_junk():
    rnd = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .:/\"'-=\n\t{}[]()802nvmlmigfabricmanagerbottlerocket"
    pieces = [
        "Allocate failed",
        "nvidia/driver:",
        "driverdog",
        "unsatisfied condition:",
        "mig.strategy=",
        "Requested:",
        "nvml.Device",
        "Linux kernel version ",
        "driver interface version",
        "\x00",
        "é",
    ]
    node_rules = [fn for fam, fn in rules() if fam in NODE_FAMILIES]
    assert len(node_rules) >= 7
    for _ in range(400):
        parts = [rnd.choice(pieces) if rnd.random() < 0.4 else "".join(rnd.choices(alphabet, k=rnd.randint(0, 40)))]
        parts += [rnd.choice(pieces) for _ in range(rnd.randint(0, 4))]
        text = "".join(parts)
        for fn in node_rules:
            fn(text)  # must not raise
    long_text = "Allocate failed " + "x" * 200_000 + " nvidia/driver:535-"
    for fn in node_rules:
        fn(long_text)


def test_nvidia_smi_mismatch_is_not_the_hooks():
    """nvidia-smi's own "Failed to initialize NVML: Driver/library version mismatch" belongs to the
    nvidia-smi rules; the hook's wording is "nvml error: driver/library version mismatch"."""
    got = recognise("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 570.195")
    assert got is None or got.family != "runtime-hook"


@pytest.mark.parametrize("runtime", ["crun", "runc"])
def test_cdi_hook_failure(runtime):
    text = f'Error: OCI runtime error: {runtime}: {{"msg":"error executing hook `/usr/bin/nvidia-cdi-hook` (exit code: 1)"}}'
    assert _read(text).remedy == "regenerate-cdi-spec"
