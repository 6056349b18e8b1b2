"""`gputui rbac`: print the ClusterRoles (and the debug namespace's Role) gputui needs, ready for `kubectl apply -f -`.

The roles are package data (gputui/rbac/*.yaml, the same files as deploy/rbac/ in the
repository), printed with their comments, which say which command needs which verb.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gputui.errors import EXIT_OK, InputError

ROLES = ("diagnose", "fix", "debug")
DEBUG_NAMESPACE = "gputui-debug"
_DATA = Path(__file__).resolve().parent.parent / "rbac"
_NS_LINE = f"  namespace: {DEBUG_NAMESPACE}\n"


def register(sub) -> None:
    p = sub.add_parser(
        "rbac",
        help="print the RBAC roles gputui needs (for kubectl apply -f -)",
        description="Print the least-privilege roles gputui needs, ready for `kubectl apply -f -`: "
        "gputui-diagnose (read-only: diagnose, snapshot, the app), gputui-fix (fixes, the NodePool "
        "editor, undo; bind gputui-diagnose too) and gputui-debug (nvidia-smi debug pods: a "
        "ClusterRole for the cluster-wide reads and a Role in the pods' namespace). With --user, "
        "--group or --serviceaccount the bindings are printed as well.",
        epilog="example: gputui rbac all --group gpu-sre | kubectl apply -f -",
    )
    p.add_argument("role", nargs="?", choices=ROLES + ("all",), default="all", help="which role (default: all)")
    p.add_argument("-o", "--output", choices=("yaml",), default="yaml", help="output format (default: yaml)")
    p.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        default=argparse.SUPPRESS,
        help=f"where debug pods run: the namespace of the debug Role (default: {DEBUG_NAMESPACE}, "
        "created with the privileged PodSecurity label; another namespace must exist)",
    )
    p.add_argument("--user", action="append", default=[], metavar="NAME", help="bind the roles to this user")
    p.add_argument("--group", action="append", default=[], metavar="NAME", help="bind the roles to this group")
    p.add_argument(
        "--serviceaccount",
        action="append",
        default=[],
        metavar="NS:NAME",
        help="bind the roles to this service account",
    )
    p.set_defaults(func=run)


def role_text(role: str, namespace: str = DEBUG_NAMESPACE) -> str:
    """The shipped manifest of one role; the debug Role moved to `namespace` (and the
    gputui-debug Namespace left out, since another namespace is the user's own)."""
    text = (_DATA / f"{role}.yaml").read_text(encoding="utf-8")
    if role != "debug" or namespace == DEBUG_NAMESPACE:
        return text
    docs = text.split("\n---\n")
    kept = [d for d in docs if "\nkind: Namespace\n" not in d]
    return "\n---\n".join(d.replace(_NS_LINE, f"  namespace: {namespace}\n") for d in kept)


def _subjects(args: argparse.Namespace) -> list[dict]:
    out: list[dict] = [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": u} for u in args.user]
    out += [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": g} for g in args.group]
    for sa in args.serviceaccount:
        ns, sep, name = sa.partition(":")
        if not sep or not ns or not name:
            raise InputError(f"--serviceaccount {sa}: expected NAMESPACE:NAME", hint="e.g. --serviceaccount ops:gputui")
        out.append({"kind": "ServiceAccount", "namespace": ns, "name": name})
    return out


def bindings(role: str, subjects: list[dict], namespace: str = DEBUG_NAMESPACE) -> list[dict]:
    """The bindings that grant one role to `subjects`."""
    ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"gputui-{role}"}
    labels = {"app.kubernetes.io/name": "gputui"}
    out: list[dict] = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"gputui-{role}", "labels": labels},
            "roleRef": ref,
            "subjects": subjects,
        }
    ]
    if role == "debug":
        out.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "gputui-debug", "namespace": namespace, "labels": labels},
                "roleRef": {**ref, "kind": "Role"},
                "subjects": subjects,
            }
        )
    return out


def manifests(roles: list[str], namespace: str = DEBUG_NAMESPACE, subjects: list[dict] | None = None) -> str:
    """The multi-document YAML `gputui rbac` prints."""
    parts = [role_text(r, namespace).rstrip("\n") for r in roles]
    if subjects:
        import yaml

        for r in roles:
            for b in bindings(r, subjects, namespace):
                parts.append(yaml.safe_dump(b, sort_keys=False).rstrip("\n"))
    return "\n---\n".join(parts) + "\n"


def run(args: argparse.Namespace) -> int:
    namespace = getattr(args, "namespace", None) or DEBUG_NAMESPACE
    roles = list(ROLES) if args.role == "all" else [args.role]
    sys.stdout.write(manifests(roles, namespace, _subjects(args)))
    return EXIT_OK
