"""Defaults the simulated API server adds when it creates an object."""

from __future__ import annotations

from gputui.sim.kind_fields import pod_qos_class
from gputui.sim.resources import ResourceType
from gputui.sim.timestamps import now_rfc3339


def apply_create_defaults(rt: ResourceType, obj: dict) -> None:
    """Defaults the API server adds on create that clients and typed models rely on."""
    if "status" in rt.subresources and (rt.group, rt.kind) != ("", "Node"):
        obj.pop("status", None)  # status is the controllers' to write; nodes register with theirs
    if rt.group == "apiextensions.k8s.io" and rt.kind == "CustomResourceDefinition":
        names = (obj.get("spec") or {}).get("names") or {}
        obj["status"] = {
            "acceptedNames": names,
            "storedVersions": [ResourceType.from_crd(obj).version],
            "conditions": [
                {
                    "type": "NamesAccepted",
                    "status": "True",
                    "reason": "NoConflicts",
                    "message": "no conflicts found",
                    "lastTransitionTime": now_rfc3339(),
                },
                {
                    "type": "Established",
                    "status": "True",
                    "reason": "InitialNamesAccepted",
                    "message": "the initial names have been accepted",
                    "lastTransitionTime": now_rfc3339(),
                },
            ],
        }
    if rt.group:
        return
    if rt.kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif rt.kind == "Pod":
        spec = obj["spec"]
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("securityContext", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            image = c.get("image", "")
            latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
            c.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
        obj.setdefault("status", {}).setdefault("phase", "Pending")
        obj["status"].setdefault("qosClass", pod_qos_class(spec))
