"""Recognition rules for kubelet GPU admission, NVIDIA runtime hook, GPU Operator driver images, Bottlerocket, NVSwitch and MIG texts.

Registered with `checks.recognise.rule`; see that module for the vocabulary.
"""

from __future__ import annotations
