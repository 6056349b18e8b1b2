"""nvidia-smi debug pods: ask the GPUs themselves, on one node or the whole fleet.

spec (pod per node and mode), runner (create/wait/logs/delete), parsers (nvidia-smi and
kernel output), fleet (expected vs seen -> findings), cleanup (leftovers). No Textual.
"""
