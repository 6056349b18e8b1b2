"""Recognition rules for nvidia-smi failure and health outputs, EC2NodeClass settings and scheduling texts.

Registered with `checks.recognise.rule`; see that module for the vocabulary.
"""

from __future__ import annotations
