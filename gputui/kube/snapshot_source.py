"""The snapshot a diagnosis judges: read live in one gathering pass, or built from manifest
files, saved snapshots and built-in scenarios (`gputui diagnose --from`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable

from gputui.errors import InputError


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
    built-in scenario names and fills in what a server would have set).

    One file that `gputui snapshot` wrote is read item by item instead, straight into the
    checks' structs (gputui.kube.snapshot_file.read_streamed): a server's objects need
    nothing filled in, and a 100k-pod snapshot then reads like a live cluster does, in
    seconds and a few hundred MiB.

    Input without a single object is an InputError (nothing to diagnose is not "no
    problems"); objects of kinds the reader did not know (its result's `unknown`) are
    listed as could-not-see with reason UnknownKind."""
    from checks.snapshot import ClusterSnapshot
    from gputui.kube import snapshot_file
    from gputui.kube.manifests import load_manifests

    paths = list(paths)
    if len(paths) == 1 and os.path.isfile(paths[0]):
        snap = snapshot_file.read_streamed(paths[0])
        if snap is not None:
            if snap.context is None:
                snap.context = str(paths[0])
            return snap
    objects = (read or load_manifests)(paths)
    unknown: dict[tuple[str, str], int] = getattr(objects, "unknown", None) or {}
    if not objects:
        where = ", ".join(paths)
        if unknown:
            kinds = ", ".join(f"{kind} ({api_version})" for api_version, kind in sorted(unknown))
            raise InputError(
                f"{where}: nothing to diagnose: only objects of kinds gputui does not know: {kinds}",
                hint=NO_OBJECTS_HINT,
            )
        raise InputError(
            f"{where}: no Kubernetes objects to diagnose (the input is empty, only comments or an empty list)",
            hint=NO_OBJECTS_HINT,
        )
    snap = ClusterSnapshot.from_manifests(objects, source="snapshot")
    snapshot_file.apply_meta(snap, objects)
    unknown_kinds = [unknown_kind(api_version, kind, count) for (api_version, kind), count in unknown.items()]
    snap.incomplete.extend(sorted(unknown_kinds, key=lambda i: (i.resource, i.message)))
    if snap.context is None:
        snap.context = ", ".join(str(p) for p in paths)
    return snap


NO_OBJECTS_HINT = (
    "give a `kubectl get nodes,pods,events,daemonsets,nodepools,nodeclaims,ec2nodeclasses,clusterpolicies -A -o yaml` "
    "dump, a `gputui snapshot` file or a scenario name (`gputui sim list`)"
)


def unknown_kind(api_version: str, kind: str, count: int):
    """The could-not-see entry for objects of a kind gputui does not know (not a partial read)."""
    from checks.snapshot import UNKNOWN_KIND, Incomplete

    group = api_version.rpartition("/")[0]
    resource = f"{kind.lower()}.{group}" if group else kind.lower()
    objects = "object" if count == 1 else "objects"
    return Incomplete(
        resource,
        UNKNOWN_KIND,
        f"{count} {objects} of kind {kind} ({api_version}) left out: gputui does not know this kind "
        "(no CustomResourceDefinition for it in the input and none built in). No check reads it, "
        "so this is not a partial read; add its CRD to the input to keep the objects.",
    )
