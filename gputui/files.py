"""Writing a file the user named (`gputui snapshot -o FILE`), without surprises.

Rules, whatever the path names:
* `-` is standard output.
* A new path is created with mode 0600 (snapshots describe a cluster; they are not for
  every local user). An existing regular file is replaced and keeps its permissions (and,
  when run as root, its owner), as `kubectl ... > FILE` would leave them.
* A symlink to a regular file replaces the file it points to; the link stays.
* Anything else is refused before any work is done: directories, FIFOs, sockets, character
  and block devices (`-o /dev/null` as root must not turn the device into a regular file),
  dangling symlinks and symlinks to any of those.
* The content goes to a new temporary file beside the target (created exclusively, 0600)
  and is renamed over the target only once complete, and only if the target is still
  absent or a regular file: a crash or a full disk leaves the old file as it was, and a
  path swapped for a device in the meantime is refused rather than replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from gputui.errors import InputError

STDOUT = "-"
NEW_FILE_MODE = 0o600
REFUSED_HINT = "give a regular file (it is replaced) or a new path, or - for standard output"


def _what(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def output_target(path: str) -> str:
    """The regular file that writing to `path` replaces or creates (symlinks resolved); InputError
    (exit 5) for anything else. `-` is returned as is."""
    if path == STDOUT:
        return path
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror or e}", hint=REFUSED_HINT) from None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        try:
            target = os.stat(real)
        except FileNotFoundError:
            raise InputError(
                f"refusing to write {path}: it is a symlink to {real}, which does not exist", hint=REFUSED_HINT
            ) from None
        except OSError as e:
            raise InputError(f"cannot write {path}: {e.strerror or e}", hint=REFUSED_HINT) from None
        what = _what(target.st_mode)
        if what:
            raise InputError(f"refusing to write {path}: it is a symlink to {real}, {what}", hint=REFUSED_HINT)
        return real
    what = _what(st.st_mode)
    if what:
        raise InputError(f"refusing to write {path}: it is {what}, not a regular file", hint=REFUSED_HINT)
    return path


@contextlib.contextmanager
def safe_output(path: str) -> Iterator[BinaryIO]:
    """A binary file to write `path`'s new content to, following the rules above; the target
    is replaced when the block ends without an exception. `-` yields standard output."""
    if path == STDOUT:
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target = output_target(path)
    fd, partial = tempfile.mkstemp(
        dir=os.path.dirname(target) or ".", prefix=f".{os.path.basename(target)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            _keep_permissions(f.fileno(), target)
        # The target may have changed while we wrote: replace only a regular file (or nothing).
        if output_target(path) != target:
            raise InputError(f"refusing to write {path}: it changed while being written", hint=REFUSED_HINT)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _keep_permissions(fd: int, target: str) -> None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return  # a new file: mkstemp's 0600 stands
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    if hasattr(os, "fchown") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.fchown(fd, st.st_uid, st.st_gid)
