"""Pod Security admission, as the API server enforces it for namespaces labelled
`pod-security.kubernetes.io/enforce=baseline|restricted`.

Only the controls gputui's own pods and the scenarios touch are judged (privileged,
host namespaces, hostPath, and restricted's escalation / capabilities / non-root /
seccomp rules); the message is the admission plugin's:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set
securityContext.privileged=true), hostPath volumes (volume "v")`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gputui.sim.statuses import ApiError

ENFORCE = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION = "pod-security.kubernetes.io/enforce-version"
LEVELS = ("privileged", "baseline", "restricted")


def _quoted(kind: str, names: list[str]) -> str:
    plural = kind + "s" if len(names) > 1 else kind
    return f"{plural} " + ", ".join(f'"{n}"' for n in names)


def _containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return (
        list(spec.get("initContainers") or [])
        + list(spec.get("containers") or [])
        + list(spec.get("ephemeralContainers") or [])
    )


def violations(pod: Mapping[str, Any], level: str) -> list[str]:
    if level not in ("baseline", "restricted"):
        return []
    spec = pod.get("spec") or {}
    containers = _containers(spec)
    sc_of = {c.get("name", ""): (c.get("securityContext") or {}) for c in containers}
    out = []
    privileged = [n for n, sc in sc_of.items() if sc.get("privileged")]
    if privileged:
        out.append(f"privileged ({_quoted('container', privileged)} must not set securityContext.privileged=true)")
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if hosts:
        out.append(f"host namespaces ({', '.join(hosts)})")
    host_paths = [v.get("name", "") for v in spec.get("volumes") or [] if "hostPath" in v]
    if level == "baseline" and host_paths:
        out.append(f"hostPath volumes ({_quoted('volume', host_paths)})")
    if level != "restricted":
        return out
    if host_paths:
        vols = ", ".join(f'"{n}"' for n in host_paths)
        noun = "volumes" if len(host_paths) > 1 else "volume"
        verb = "use" if len(host_paths) > 1 else "uses"
        out.append(f'restricted volume types ({noun} {vols} {verb} restricted volume type "hostPath")')
    escalating = [n for n, sc in sc_of.items() if sc.get("allowPrivilegeEscalation") is not False]
    if escalating:
        out.append(
            f"allowPrivilegeEscalation != false ({_quoted('container', escalating)} must set "
            "securityContext.allowPrivilegeEscalation=false)"
        )
    caps = [n for n, sc in sc_of.items() if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or [])]
    if caps:
        out.append(
            f"unrestricted capabilities ({_quoted('container', caps)} must set "
            'securityContext.capabilities.drop=["ALL"])'
        )
    pod_sc = spec.get("securityContext") or {}
    root = [n for n, sc in sc_of.items() if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True]
    if root:
        who = "pod or " + _quoted("container", root) if len(root) == len(sc_of) else _quoted("container", root)
        out.append(f"runAsNonRoot != true ({who} must set securityContext.runAsNonRoot=true)")
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    seccomp = [
        n
        for n, sc in sc_of.items()
        if ((sc.get("seccompProfile") or {}).get("type") or pod_seccomp) not in ("RuntimeDefault", "Localhost")
    ]
    if seccomp:
        who = "pod or " + _quoted("container", seccomp) if len(seccomp) == len(sc_of) else _quoted("container", seccomp)
        out.append(
            f'seccompProfile ({who} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
        )
    return out


def admit(pod: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> None:
    """Raise the 403 the API server answers when the namespace's enforce level forbids the pod."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    level = labels.get(ENFORCE)
    if level not in ("baseline", "restricted"):
        return
    found = violations(pod, level)
    if not found:
        return
    version = labels.get(ENFORCE_VERSION) or "latest"
    name = (pod.get("metadata") or {}).get("name") or (pod.get("metadata") or {}).get("generateName", "")
    raise ApiError(
        403,
        "Forbidden",
        f'pods "{name}" is forbidden: violates PodSecurity "{level}:{version}": ' + ", ".join(found),
        {"name": name, "kind": "pods"},
    )
