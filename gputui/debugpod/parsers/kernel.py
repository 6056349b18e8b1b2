"""NVIDIA lines of the kernel log (`dmesg`, `journalctl -k`): Xid events and driver notes."""

from __future__ import annotations

import re

from gputui.debugpod.model import XidEvent

# [Sun Feb 23 16:24:18 2025] NVRM: Xid (PCI:0000:9b:00): 119, pid=2024380, name=nvidia-smi, Timeout ...
_XID = re.compile(
    r"^(?P<stamp>\[[^\]]*\])?\s*(?:\S+\s+kernel:\s+)?NVRM: Xid \(PCI:(?P<pci>[0-9A-Fa-f:.]+)\):"
    r"\s*(?P<code>\d+),\s*(?P<rest>.*)$"
)
_PID = re.compile(r"^pid=(?P<pid>'?[^,]*'?),\s*name=(?P<name>[^,]*),\s*(?P<text>.*)$")
# Driver lines worth showing even without an Xid: probe failures and version mismatches.
_NOTES = re.compile(
    r"NVRM: (?:API mismatch|The NVIDIA probe routine failed|None of the NVIDIA devices|"
    r"GPU at PCI:\S+ has fallen off the bus|RmInitAdapter failed|this kernel module has the version)"
)
_UNREADABLE = re.compile(r"dmesg: read kernel buffer failed|Operation not permitted|Permission denied", re.I)


def parse_xids(text: str) -> list[XidEvent]:
    out = []
    for line in text.splitlines():
        m = _XID.match(line.strip())
        if not m:
            continue
        rest = m.group("rest").strip()
        pid = name = None
        pm = _PID.match(rest)
        if pm:
            pid, name, rest = pm.group("pid").strip("'"), pm.group("name").strip(), pm.group("text").strip()
            # Bus and memory faults name no process: the driver prints pid='<unknown>', name=<unknown>.
            pid = None if pid == "<unknown>" else pid
            name = None if name == "<unknown>" else name
        out.append(
            XidEvent(
                code=int(m.group("code")),
                pci=m.group("pci").lower(),
                text=rest,
                pid=pid,
                process=name,
                timestamp=(m.group("stamp") or "").strip("[] ") or None,
                line=line.strip(),
            )
        )
    return out


def driver_notes(text: str) -> list[str]:
    return [l.strip() for l in text.splitlines() if _NOTES.search(l)]


def readable(text: str) -> bool:
    """False when the container was not allowed to read the kernel log."""
    return not _UNREADABLE.search(text)
