"""What `nvidia-smi` (and the few shell commands around it) print on a simulated node.

The simulator runs the containers of debug pods through `run_container`; the output
becomes the container's log and the exit status its exit code. Everything depends only
on the Node object (labels, capacity and `sim.gputui.dev/` annotations) plus the number
of GPUs that running pods hold, so the same node always prints the same UUIDs, bus ids
and serials.

Node annotations read here
    sim.gputui.dev/nvidia-smi      healthy (default on GPU nodes; nodes without GPUs act as not-found) |
                                   driver-not-loaded | nvml-unknown-error | no-devices | version-mismatch |
                                   not-found | gpu-missing | insufficient-permissions | access-blocked
    sim.gputui.dev/gpu-model       GPU product name, e.g. "NVIDIA A10G" (else from the instance type)
    sim.gputui.dev/driver-version  e.g. "550.127.05" (default 550.127.05)
    sim.gputui.dev/driver-root     operator | host (which chroot target holds nvidia-smi)
    sim.gputui.dev/xid             comma-separated Xid codes shown in the kernel log
    sim.gputui.dev/ecc             "volatile,aggregate" uncorrectable ECC errors on GPU 0

Commands understood (`render(node, command)`)
    nvidia-smi                                 the default table (R535+ layout)
    nvidia-smi -L
    nvidia-smi -q [-d SECTION,...]             sections are accepted and the full report printed
    nvidia-smi -q -x                           XML (nvidia_smi_log, DTD v12 element names)
    nvidia-smi --query-gpu=F1,F2 --format=csv[,noheader][,nounits]
    nvidia-smi --query-compute-apps=F1,F2 --format=csv[,noheader][,nounits]
    nvidia-smi -i N ...                        restrict to GPU N (index, UUID or bus id)
    dmesg [-T] / journalctl -k                 kernel log with `NVRM: Xid` lines from the xid annotation
    cat /proc/driver/nvidia/version, uname -r, hostname, echo, printf, true, false, exit N, sleep N
    wrappers: chroot DIR CMD, timeout N CMD, nsenter ... -- CMD, env CMD, exec CMD, command CMD

    chroot follows `sim.gputui.dev/driver-root`: with `operator` the host has no
    nvidia-smi (`chroot /host nvidia-smi` fails, exit 127) and with `host` there is no
    /run/nvidia/driver (`chroot /run/nvidia/driver ...` fails, exit 125). Without the
    annotation any chroot target works. Mode `not-found` makes nvidia-smi missing everywhere.

Script format (what a debug pod's `sh -c SCRIPT` may contain)
    * One simple command per line; lines may also chain commands with `;`, `&&`, `||`
      and pipelines with `|` (later pipeline stages understood: grep [-i] [-v] [-E] PATTERN,
      head -n N, tail -n N, cat). `#` starts a comment. `set -e` is honoured; other `set`
      options are ignored.
    * Redirections are dropped (`2>&1`, `2>/dev/null` keep the output in the log;
      `>/dev/null` and `&>/dev/null` discard stdout).
    * Section markers are ordinary echo lines and appear in the output in order, e.g.
          echo "=== gputui:query-gpu ==="
          nvidia-smi --query-gpu=index,name,uuid --format=csv,noheader
          echo "=== gputui:dmesg ==="
          dmesg | grep -i xid
      prints the marker line, the CSV rows, the second marker and the Xid lines.
    * The script's exit status is that of the last command run (or of `exit N`), as sh does.
    * Not supported: variables, `$(...)`, `if`/`for`, functions, here-documents. An
      unknown command prints `sh: 1: NAME: not found` and returns 127.

Failure outputs are the exact NVIDIA strings with nvidia-smi's exit codes: driver not
loaded 9, no devices 6, NVML unknown error 255, driver/library version mismatch 18, insufficient
permissions 4, GPU access blocked 255.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gputui.sim.gpu_facts import describe
from gputui.sim.node_shell import SHELLS, ShellEnv, nvidia_smi_missing, run_script, run_simple_command

# -- entry points ----------------------------------------------------------------


@dataclass(frozen=True)
class ContainerRun:
    log: str
    exit_code: int
    start_error: str | None = None  # set when the runtime could not start the process at all


def container_argv(container: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in (container.get("command") or [])] + [str(a) for a in (container.get("args") or [])]


def mentions_nvidia_smi(argv: Sequence[str]) -> bool:
    return any("nvidia-smi" in a for a in argv)


def run_container(
    node: Mapping[str, Any], argv: Sequence[str], *, now: float | None = None, busy_gpus: int = 0
) -> ContainerRun:
    """Run a container's command+args on the node.

    A shell (`sh -c SCRIPT`) runs the script; anything else runs as one command. An
    nvidia-smi executable that does not exist is a start failure (exit 128 with the
    runtime's message), as containerd reports it."""
    now = time.time() if now is None else now
    env = ShellEnv(info=describe(node, busy_gpus=busy_gpus), now=now)
    argv = list(argv)
    if not argv:
        return ContainerRun("", 0)
    first = argv[0].rsplit("/", 1)[-1]
    if first in SHELLS and "-c" in argv[1:]:
        idx = argv.index("-c")
        log, code = run_script(env, argv[idx + 1] if idx + 1 < len(argv) else "")
        return ContainerRun(log, code)
    if first == "nvidia-smi" and nvidia_smi_missing(env, env.root):
        return ContainerRun("", 128, start_error=start_failure_message(argv[0]))
    stdout, stderr, code = run_simple_command(argv, None, env)
    return ContainerRun(stderr + stdout, code)


def start_failure_message(executable: str) -> str:
    return (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        "runc create failed: unable to start container process: exec: "
        f'"{executable}": executable file not found in $PATH: unknown'
    )


def render(node: Mapping[str, Any], command: str, *, now: float | None = None, busy_gpus: int = 0) -> tuple[str, int]:
    """What running `command` (one command line or a whole script) on the node prints: (output, exit code)."""
    now = time.time() if now is None else now
    env = ShellEnv(info=describe(node, busy_gpus=busy_gpus), now=now)
    return run_script(env, command)
