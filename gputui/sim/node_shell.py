"""A simulated node's kernel log and the tiny sh that runs a debug pod's script
(see gputui.sim.nvsmi for the script format).
"""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass

from gputui.sim.gpu_facts import OPERATOR_DRIVER_ROOT, XID_TEXT, NodeGpus
from gputui.sim.nvsmi_command import nvidia_smi

# -- the kernel log -------------------------------------------------------------


def kernel_log(info: NodeGpus, now: float, *, human_times: bool = False) -> str:
    """The NVIDIA lines of the node's kernel log: module load (or its failure) and Xids."""
    uptime = 1834.0
    if info.mode == "driver-not-loaded":
        lines = [
            (2.514731, "nvidia: module verification failed: signature and/or required key missing - tainting kernel"),
            (2.519204, "NVRM: The NVIDIA probe routine failed for 1 device(s)."),
            (2.519236, "NVRM: None of the NVIDIA devices were initialized."),
        ]
    else:
        lines = [
            (2.514731, "nvidia: loading out-of-tree module taints kernel."),
            (2.702388, "nvidia-nvlink: Nvlink Core is being initialized, major device number 239"),
            (
                3.041582,
                f"NVRM: loading NVIDIA UNIX x86_64 Kernel Module  {info.driver_version}  "
                "Release Build  (dvs-builder@U16-I3-B03-4-3)",
            ),
        ]
    if info.mode == "version-mismatch":
        # The user-space library was upgraded under a kernel module that is still loaded.
        lines += [
            (uptime - 12.5, f"NVRM: API mismatch: the client has the version {info.driver_version}, but"),
            (uptime - 12.5, "NVRM: this kernel module has the version 535.216.01.  Please"),
            (uptime - 12.5, "NVRM: make sure that this kernel module and all NVIDIA driver"),
            (uptime - 12.5, "NVRM: components have the same version."),
        ]
    target = info.gpus[0] if info.gpus else None
    pci = target.pci_short if target else "0000:00:1e"
    for n, code in enumerate(info.xids):
        text = XID_TEXT.get(code, "Unknown Xid")
        # Xids raised while a process runs name it; bus and memory faults do not.
        app_error = code in (13, 31, 43, 45, 94, 119)
        pid_part = "pid=2314, name=python, " if app_error else "pid='<unknown>', name=<unknown>, "
        lines.append((uptime - 600 + 37.25 * n, f"NVRM: Xid (PCI:{pci}): {code}, {pid_part}{text}"))
    boot = now - uptime
    out = []
    for t, text in sorted(lines, key=lambda x: x[0]):
        if human_times:
            stamp = "[" + time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(boot + t)) + "]"
        else:
            stamp = f"[{t:12.6f}]"
        out.append(f"{stamp} {text}")
    return "\n".join(out) + "\n"


def _proc_version(info: NodeGpus) -> tuple[str, str, int]:
    if info.mode in ("driver-not-loaded", "not-found"):
        return "", "cat: /proc/driver/nvidia/version: No such file or directory\n", 1
    return (
        (
            f"NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  {info.driver_version}  Release Build  "
            f"(dvs-builder@U16-I3-B03-4-3)  Tue Oct  1 00:00:00 UTC 2024\n"
            f"GCC version:  gcc version 11.4.1 20230605 (Red Hat 11.4.1-2) (GCC) \n"
        ),
        "",
        0,
    )


# -- a tiny sh -----------------------------------------------------------------

Result = tuple[str, str, int]  # stdout, stderr, exit status


@dataclass
class ShellEnv:
    info: NodeGpus
    now: float
    root: str = "/"  # "/" (the container), "host" or "driver"
    errexit: bool = False
    exited: int | None = None


def _unwrap(argv: list[str], env: ShellEnv) -> tuple[list[str], Result | None, str, str]:
    """Strip chroot/timeout/nsenter/env/exec wrappers: (argv, early result, root, last wrapper)."""
    root, via = env.root, ""
    while argv:
        cmd = argv[0].rsplit("/", 1)[-1]
        if cmd == "chroot":
            rest = _after_options(argv)
            if not rest:
                return [], ("", "chroot: missing operand\n", 125), root, cmd
            target = rest[0].rstrip("/") or "/"
            if target == OPERATOR_DRIVER_ROOT and env.info.driver_root == "host":
                return (
                    [],
                    ("", f"chroot: cannot change root directory to '{rest[0]}': No such file or directory\n", 125),
                    root,
                    cmd,
                )
            root = "driver" if target == OPERATOR_DRIVER_ROOT else ("host" if target != "/" else root)
            argv, via = rest[1:] or ["sh"], cmd
        elif cmd == "timeout":
            args = argv[1:]
            while args and args[0].startswith("-"):
                args = args[2:] if args[0] in ("-s", "-k", "--signal", "--kill-after") else args[1:]
            argv = args[1:]  # past the duration
        elif cmd == "nsenter":
            argv = argv[argv.index("--") + 1 :] if "--" in argv else _after_options(argv)
            root, via = "host", cmd
        elif cmd in ("env", "exec", "command", "nice", "stdbuf", "sudo"):
            rest = _after_options(argv)
            while rest and "=" in rest[0]:
                rest = rest[1:]  # env's NAME=value assignments
            argv = rest
        else:
            break
    return argv, None, root, via


def _after_options(argv: list[str]) -> list[str]:
    """The wrapper's operands: everything after its leading options."""
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] == "--":
            return argv[i + 1 :]
        i += 1
    return argv[i:]


def nvidia_smi_missing(env: ShellEnv, root: str) -> bool:
    if env.info.mode == "not-found":
        return True
    return root == "host" and env.info.driver_root == "operator"


def _grep(argv: list[str], text: str) -> Result:
    flags: set[str] = set()
    pattern: str | None = None
    for a in argv[1:]:
        if a.startswith("-") and pattern is None and len(a) > 1:
            flags.update(a[1:])
        elif pattern is None:
            pattern = a
    if pattern is None:
        return "", "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    try:
        rx = re.compile(pattern if "E" in flags else _basic_to_python(pattern), re.I if "i" in flags else 0)
    except re.error:
        rx = re.compile(re.escape(pattern), re.I if "i" in flags else 0)
    lines = [l for l in text.splitlines() if bool(rx.search(l)) != ("v" in flags)]
    return "".join(l + "\n" for l in lines), "", 0 if lines else 1


def _basic_to_python(pattern: str) -> str:
    return pattern.replace(r"\|", "|").replace(r"\(", "(").replace(r"\)", ")")


def _head_tail(argv: list[str], text: str) -> Result:
    n = 10
    args = argv[1:]
    for i, a in enumerate(args):
        if a == "-n" and i + 1 < len(args):
            n = int(args[i + 1]) if args[i + 1].lstrip("-").isdigit() else n
        elif a.startswith("-n") and a[2:].isdigit():
            n = int(a[2:])
        elif a.startswith("-") and a[1:].isdigit():
            n = int(a[1:])
    lines = text.splitlines()
    chosen = lines[:n] if argv[0] == "head" else lines[-n:] if n else []
    return "".join(l + "\n" for l in chosen), "", 0


def _echo(argv: list[str]) -> Result:
    args = argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    elif args and args[0] == "-e":
        args = args[1:]
    text = " ".join(args).replace("\\n", "\n").replace("\\t", "\t")
    return text + ("\n" if newline else ""), "", 0


def _printf(argv: list[str]) -> Result:
    if len(argv) < 2:
        return "", "printf: usage: printf format [arguments]\n", 2
    fmt = argv[1].replace("\\n", "\n").replace("\\t", "\t")
    args = argv[2:]
    if "%s" in fmt and args:
        parts = []
        while args:
            count = fmt.count("%s")
            chunk, args = args[:count], args[count:]
            chunk += [""] * (count - len(chunk))
            parts.append(fmt.replace("%s", "{}").format(*chunk))
        return "".join(parts), "", 0
    return fmt.replace("%s", "").replace("%%", "%"), "", 0


def run_simple_command(argv: list[str], stdin: str | None, env: ShellEnv) -> Result:
    argv, early, root, via = _unwrap(list(argv), env)
    if early:
        return early
    if not argv:
        return "", "", 0
    cmd = argv[0].rsplit("/", 1)[-1]
    if cmd == "nvidia-smi":
        if nvidia_smi_missing(env, root):
            if via == "chroot":
                return "", f"chroot: failed to run command '{argv[0]}': No such file or directory\n", 127
            if via == "nsenter":
                return "", f"nsenter: failed to execute {argv[0]}: No such file or directory\n", 127
            return "", f"sh: 1: {argv[0]}: not found\n", 127
        out, code = nvidia_smi(env.info, argv[1:], env.now)
        return out, "", code
    if cmd == "echo":
        return _echo(argv)
    if cmd == "printf":
        return _printf(argv)
    if cmd == "set":
        for a in argv[1:]:
            if a[:1] in "-+" and "e" in a:
                env.errexit = a[0] == "-"
        return "", "", 0
    if cmd in ("true", ":", "sleep", "sync"):
        return "", "", 0
    if cmd == "false":
        return "", "", 1
    if cmd == "exit":
        env.exited = int(argv[1]) % 256 if len(argv) > 1 and argv[1].isdigit() else 0
        return "", "", env.exited
    if cmd == "dmesg":
        return kernel_log(env.info, env.now, human_times=any(a in ("-T", "--ctime") for a in argv[1:])), "", 0
    if cmd == "journalctl":
        return kernel_log(env.info, env.now, human_times=True), "", 0
    if cmd == "uname":
        return (env.info.kernel if "-r" in argv else "Linux") + "\n", "", 0
    if cmd == "hostname":
        return env.info.node_name + "\n", "", 0
    if cmd == "grep":
        return _grep(argv, stdin or "")
    if cmd in ("head", "tail"):
        return _head_tail(argv, stdin or "")
    if cmd == "cat":
        files = [a for a in argv[1:] if not a.startswith("-")]
        if not files:
            return stdin or "", "", 0
        if files == ["/proc/driver/nvidia/version"]:
            return _proc_version(env.info)
        return "", f"cat: {files[0]}: No such file or directory\n", 1
    if cmd in SHELLS and "-c" in argv:
        idx = argv.index("-c")
        sub = ShellEnv(info=env.info, now=env.now, root=root)
        out, code = run_script(sub, argv[idx + 1] if idx + 1 < len(argv) else "")
        return out, "", code
    return "", f"sh: 1: {argv[0]}: not found\n", 127


SHELLS = {"sh", "bash", "ash", "dash", "zsh"}
_SEPARATORS = {";", "&&", "||", "&"}
_REDIRECTS = {">", ">>", "<", ">&", "&>", "<&", "&>>", ">|"}


def _tokenize(line: str) -> list[str]:
    lex = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    return list(lex)


def _split_commands(tokens: list[str]) -> list[tuple[list[list[str]], str, bool]]:
    """tokens -> [(pipeline stages, operator that follows, stdout discarded)]."""
    out: list[tuple[list[list[str]], str, bool]] = []
    stages: list[list[str]] = [[]]
    discard = False
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _SEPARATORS:
            out.append((stages, tok, discard))
            stages, discard = [[]], False
        elif tok == "|":
            stages.append([])
        elif tok in _REDIRECTS:
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            fd = stages[-1].pop() if stages[-1] and stages[-1][-1] in ("1", "2") else "1"
            if target == "/dev/null" and tok in (">", ">>", ">|", "&>", "&>>") and (fd == "1" or tok[0] == "&"):
                discard = True
            i += 1
        elif tok not in ("{", "}"):
            stages[-1].append(tok)
        i += 1
    if any(stages):
        out.append((stages, ";", discard))
    return out


def _logical_lines(script: str) -> list[str]:
    """Join backslash continuations and lines that end in an operator, as sh reads them."""
    lines: list[str] = []
    pending = ""
    for raw in script.replace("\\\n", " ").splitlines():
        pending = f"{pending} {raw}" if pending else raw
        if pending.rstrip().endswith(("&&", "||", "|")):
            continue
        lines.append(pending)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def run_script(env: ShellEnv, script: str) -> tuple[str, int]:
    """Run a shell script as described in the module docstring: (combined output, exit status)."""
    out: list[str] = []
    status = 0
    for line in _logical_lines(script):
        try:
            commands = _split_commands(_tokenize(line))
        except ValueError:
            out.append("sh: 1: Syntax error: Unterminated quoted string\n")
            return "".join(out), 2
        run_next, prev_op = True, ";"
        for stages, op, discard in commands:
            if run_next:
                piped: str | None = None
                for argv in (s for s in stages if s):
                    stdout, stderr, status = run_simple_command(argv, piped, env)
                    out.append(stderr)
                    piped = stdout
                    if env.exited is not None:
                        break
                if piped and not discard:
                    out.append(piped)
                if env.exited is not None:
                    return "".join(out), env.exited
                if env.errexit and status != 0 and op not in ("&&", "||") and prev_op not in ("&&", "||"):
                    return "".join(out), status
            run_next = status == 0 if op == "&&" else status != 0 if op == "||" else True
            prev_op = op
    return "".join(out), status
