"""A `kubectl get ... -A -o yaml` dump (no CustomResourceDefinitions) diagnoses as the live cluster does.

For every built-in scenario the simulator serves the cluster; the real kubectl dumps every
kind gputui reads in one call, the way a user attaches a cluster to a ticket, and
`diagnose --from DUMP` must report exactly the findings `diagnose` reports live.

Container logs are not objects, so no `kubectl get` dump carries them: the simulated
containers print nothing here, and both sides judge the same objects. Ages are the one
thing allowed to differ (live reads the wall clock a moment after the dump was taken).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from checks.snapshot import RESOURCES, split_log_annotations
from gputui.cli import main
from gputui.sim.loader import load_objects, scenario_names

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed"),
]

_SCENARIOS = scenario_names()
# A few scenarios per test: each starts its own simulator, so groups spread over the workers.
_GROUPS = [_SCENARIOS[i::4] for i in range(4)]


def _kinds_served(objects: list[dict]) -> list[str]:
    """`plural.group` of every kind gputui reads that the scenario serves (kubectl refuses unknown types)."""
    crds = {o["metadata"]["name"] for o in objects if o["kind"] == "CustomResourceDefinition"}
    out = []
    for attr, (group, _version, plural) in RESOURCES.items():
        if attr == "crds":
            continue  # a dump written by hand rarely carries them; gputui must not need them
        resource = f"{plural}.{group}" if group else plural
        if not group or "." not in group or resource in crds:
            out.append(resource)
    return out


def _kubectl_dump(sim, kinds: list[str], home) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update(KUBECONFIG=str(sim.kubeconfig), HOME=str(home), TZ="UTC")
    proc = subprocess.run(
        ["kubectl", "get", ",".join(kinds), "-A", "-o", "yaml"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


_AGE = re.compile(r"\b\d+(?:h\d\dm|s|m|h|d| min| minutes?| hours?| days?)\b")  # checks.findings.age_text and prose
# What an idle node has cost so far grows with the clock, like an age.
_SPENT = re.compile(r"~?\$[\d,]+\.\d\d(?= so far| since)")


def _findings(doc: dict) -> list[dict]:
    """What a finding says, ages blanked."""
    out = []
    for f in doc["findings"]:
        kept = {k: f[k] for k in ("code", "name", "severity", "subject", "title", "message", "evidence", "related")}
        out.append(json.loads(_SPENT.sub("<spent>", _AGE.sub("<age>", json.dumps(kept)))))
    return sorted(out, key=lambda f: json.dumps(f, sort_keys=True))


def _as_served(name: str) -> list[dict]:
    """The scenario without container logs, node selectors in the order a real API server
    writes every map (sorted keys; the simulator keeps the scenario's order, kubectl sorts)."""
    objects = load_objects([name])
    for obj in objects:
        split_log_annotations(obj, remove=True)
        _sort_node_selectors(obj)
    return objects


def _sort_node_selectors(node) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "nodeSelector" and isinstance(value, dict):
                node[key] = dict(sorted(value.items()))
            else:
                _sort_node_selectors(value)
    elif isinstance(node, list):
        for item in node:
            _sort_node_selectors(item)


@pytest.mark.parametrize("names", _GROUPS, ids=[f"group{i}" for i in range(len(_GROUPS))])
def test_kubectl_dump_without_crds_diagnoses_as_live(capsys, start_sim, tmp_path, names):
    for name in names:
        objects = _as_served(name)
        sim = start_sim(objects=objects)
        dump = tmp_path / f"{name}.yaml"
        dump.write_text(_kubectl_dump(sim, _kinds_served(objects), tmp_path / "home"), encoding="utf-8")
        assert "CustomResourceDefinition" not in dump.read_text(encoding="utf-8")

        live_code = main(["diagnose", "--kubeconfig", str(sim.kubeconfig), "-o", "json", "--no-progress"])
        live = json.loads(capsys.readouterr().out)
        code = main(["diagnose", "--from", str(dump), "-o", "json"])
        offline = json.loads(capsys.readouterr().out)
        sim.stop()

        assert offline["cluster"]["source"] == "snapshot"
        assert offline["incomplete"] == [], name
        assert _findings(offline) == _findings(live), name
        assert code == live_code, name
