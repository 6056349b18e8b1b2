"""The snapshot a diagnosis judges: read live in one gathering pass, or built from manifest
files, saved snapshots and built-in scenarios (`gputui diagnose --from`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable


def load_snapshot(args: argparse.Namespace, progress: Callable[[str, int], None] | None = None):
    """Live (one gathering pass) or, with --from, the given files/dirs/scenarios."""
    if getattr(args, "from_paths", None):
        return snapshot_from_files(args.from_paths, read=getattr(args, "read_offline", None))
    from gputui.kube.client import from_args
    from gputui.kube.gather import gather

    with from_args(args) as kube:
        # --namespace filters findings; the checks need the operator's and Karpenter's objects too.
        return gather(kube, namespace="", progress=progress)


def snapshot_from_files(paths: Iterable[str], read: Callable[[list[str]], list[dict]] | None = None):
    """A snapshot of the objects in the files; `read` turns the paths into objects (by default
    the manifests as written; the CLI passes the simulator's loader, which also knows the
    built-in scenario names and fills in what a server would have set)."""
    from checks.snapshot import ClusterSnapshot
    from gputui.kube import snapshot_file
    from gputui.kube.manifests import load_manifests

    objects = (read or load_manifests)(list(paths))
    snap = ClusterSnapshot.from_manifests(objects, source="snapshot")
    snapshot_file.apply_meta(snap, objects)
    if snap.context is None:
        snap.context = ", ".join(str(p) for p in paths)
    return snap
