"""The snapshot a diagnosis judges: read live in one gathering pass, or built from manifest
files, saved snapshots and built-in scenarios (`gputui diagnose --from`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable


def load_snapshot(args: argparse.Namespace, progress: Callable[[str, int], None] | None = None):
    """Live (one gathering pass) or, with --from, the given files/dirs/scenarios."""
    if getattr(args, "from_paths", None):
        return snapshot_from_files(args.from_paths)
    from gputui.kube.client import from_args
    from gputui.kube.gather import gather

    with from_args(args) as kube:
        # --namespace filters findings; the checks need the operator's and Karpenter's objects too.
        return gather(kube, namespace="", progress=progress)


def snapshot_from_files(paths: Iterable[str]):
    from checks.snapshot import ClusterSnapshot
    from gputui.kube import snapshot_file
    from gputui.sim.loader import load_objects

    objects = load_objects(list(paths), shift_time=False)
    snap = ClusterSnapshot.from_manifests(objects, source="snapshot")
    snapshot_file.apply_meta(snap, objects)
    if snap.context is None:
        snap.context = ", ".join(str(p) for p in paths)
    return snap
