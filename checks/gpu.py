"""GPU domain facts shared by checks, the simulator and the TUI: resource names,
well-known labels, and the GPU Operator's operands."""

from __future__ import annotations

from dataclasses import dataclass

GPU_RESOURCE = "nvidia.com/gpu"
AMD_GPU_RESOURCE = "amd.com/gpu"
NEURON_RESOURCE_PREFIX = "aws.amazon.com/neuron"  # neuron, neuroncore, neurondevice
# instance-gpu-name values of AMD GPUs (Radeon Pro V520 on g4ad, Instinct MI*).
AMD_GPU_NAME_PREFIXES = ("radeon", "v520", "instinct", "mi")

# Labels that say "this node has (or should have) NVIDIA GPUs".
LABEL_KARPENTER_GPU_COUNT = "karpenter.k8s.aws/instance-gpu-count"
LABEL_KARPENTER_GPU_NAME = "karpenter.k8s.aws/instance-gpu-name"
LABEL_KARPENTER_GPU_MANUFACTURER = "karpenter.k8s.aws/instance-gpu-manufacturer"
LABEL_KARPENTER_GPU_MEMORY = "karpenter.k8s.aws/instance-gpu-memory"
LABEL_KARPENTER_ACCELERATOR_NAME = "karpenter.k8s.aws/instance-accelerator-name"
LABEL_KARPENTER_ACCELERATOR_MANUFACTURER = "karpenter.k8s.aws/instance-accelerator-manufacturer"
LABEL_KARPENTER_ACCELERATOR_COUNT = "karpenter.k8s.aws/instance-accelerator-count"
LABEL_NFD_NVIDIA_PCI = "feature.node.kubernetes.io/pci-10de.present"
LABEL_GFD_GPU_COUNT = "nvidia.com/gpu.count"
LABEL_GFD_GPU_PRODUCT = "nvidia.com/gpu.product"
LABEL_GFD_GPU_PRESENT = "nvidia.com/gpu.present"
# The NFD PCI labels the GPU Operator reads as "an NVIDIA device is on this node" (any
# NVIDIA PCI device, and the display/3D controller classes).
NFD_NVIDIA_PCI_LABELS = (
    LABEL_NFD_NVIDIA_PCI,
    "feature.node.kubernetes.io/pci-0302_10de.present",
    "feature.node.kubernetes.io/pci-0300_10de.present",
)
LABEL_MIG_CAPABLE = "nvidia.com/mig.capable"  # set by GFD
LABEL_VGPU_HOST_DRIVER = "nvidia.com/vgpu.host-driver-version"
LABEL_WORKLOAD_CONFIG = "nvidia.com/gpu.workload.config"
# Workload configs whose nodes get the sandbox (VM) operands instead of the container ones.
SANDBOX_WORKLOAD_CONFIGS = frozenset({"vm-passthrough", "vm-vgpu"})
# GPU models that can be partitioned with MIG (the MIG manager runs only on these).
# T4, A10G, L4, L40S and V100 cannot.
MIG_CAPABLE_MODELS = ("A100", "A30", "H100", "H200", "GH200", "B200")
LABEL_INSTANCE_TYPE = "node.kubernetes.io/instance-type"
LABEL_NODEPOOL = "karpenter.sh/nodepool"
LABEL_CAPACITY_TYPE = "karpenter.sh/capacity-type"
LABEL_ZONE = "topology.kubernetes.io/zone"
ANNOTATION_DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"


@dataclass(frozen=True)
class Operand:
    field: str  # ClusterPolicy spec field
    name: str  # DaemonSet name
    app: str  # `app` label on its pods
    deploy_label: str  # node label the operator sets to schedule it
    title: str


# The operands that matter for "does this node get usable GPUs", in dependency order.
OPERANDS: tuple[Operand, ...] = (
    Operand("driver", "nvidia-driver-daemonset", "nvidia-driver-daemonset", "nvidia.com/gpu.deploy.driver", "driver"),
    Operand(
        "toolkit",
        "nvidia-container-toolkit-daemonset",
        "nvidia-container-toolkit-daemonset",
        "nvidia.com/gpu.deploy.container-toolkit",
        "container toolkit",
    ),
    Operand(
        "devicePlugin",
        "nvidia-device-plugin-daemonset",
        "nvidia-device-plugin-daemonset",
        "nvidia.com/gpu.deploy.device-plugin",
        "device plugin",
    ),
    Operand(
        "gfd",
        "gpu-feature-discovery",
        "gpu-feature-discovery",
        "nvidia.com/gpu.deploy.gpu-feature-discovery",
        "GPU feature discovery",
    ),
    Operand("dcgm", "nvidia-dcgm", "nvidia-dcgm", "nvidia.com/gpu.deploy.dcgm", "DCGM"),
    Operand(
        "dcgmExporter",
        "nvidia-dcgm-exporter",
        "nvidia-dcgm-exporter",
        "nvidia.com/gpu.deploy.dcgm-exporter",
        "DCGM exporter",
    ),
    Operand(
        "validator",
        "nvidia-operator-validator",
        "nvidia-operator-validator",
        "nvidia.com/gpu.deploy.operator-validator",
        "operator validator",
    ),
    Operand(
        "migManager", "nvidia-mig-manager", "nvidia-mig-manager", "nvidia.com/gpu.deploy.mig-manager", "MIG manager"
    ),
    Operand(
        "nodeStatusExporter",
        "nvidia-node-status-exporter",
        "nvidia-node-status-exporter",
        "nvidia.com/gpu.deploy.node-status-exporter",
        "node status exporter",
    ),
)

OPERAND_BY_APP = {o.app: o for o in OPERANDS}
OPERAND_APPS = frozenset(OPERAND_BY_APP) | {"nvidia-cuda-validator", "nvidia-device-plugin-validator"}
