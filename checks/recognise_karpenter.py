"""Recognition rules for EC2 capacity, launch failures, readiness Unknown, vanished NodeClaims and disruption texts (Karpenter, EC2).

Registered with `checks.recognise.rule`; see that module for the vocabulary.
"""

from __future__ import annotations
