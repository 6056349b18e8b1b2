"""Reading manifests and dumps into plain objects (gputui.kube.manifests), shared by
`diagnose --from`, `nodepool lint` and the simulator."""

from __future__ import annotations

import json

import pytest
import yaml

from gputui.errors import InputError
from gputui.kube.manifests import load_manifests, read_objects

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns"}}


def cm(name: str) -> dict:
    return {**CM, "metadata": {**CM["metadata"], "name": name}}


def names(objects) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def test_multi_document_yaml_list_dump_and_json_array(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(cm("one")) + "---\n---\n" + yaml.safe_dump(cm("two")))
    dump = {"apiVersion": "v1", "kind": "List", "items": [cm("three"), cm("four")]}
    (tmp_path / "b.yml").write_text(yaml.safe_dump(dump))
    (tmp_path / "c.json").write_text(json.dumps([cm("five")]))
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "d.yaml").write_text(yaml.safe_dump(cm("hidden")))
    assert names(load_manifests([tmp_path])) == ["one", "two", "three", "four", "five"]


def test_objects_come_back_as_written(tmp_path):
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  creationTimestamp: 2024-01-02T03:04:05Z\n")
    (obj,) = load_manifests([f])
    # No server fields filled in, and timestamps stay the strings the API writes.
    assert obj == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "creationTimestamp": "2024-01-02T03:04:05Z"},
    }


def test_origin_names_file_document_and_item(tmp_path):
    f = tmp_path / "dump.yaml"
    f.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [cm("ok"), {"kind": "ConfigMap"}]}))
    with pytest.raises(InputError) as exc:
        read_objects([f])
    assert exc.value.message == f"{f}, document 1, item 2: apiVersion is missing"


def test_yaml_syntax_error_gives_document_line_and_column(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(cm("one")) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n")
    with pytest.raises(InputError) as exc:
        load_manifests([f])
    assert exc.value.message.startswith(f"{f}, document 2, line ")
    assert "YAML syntax error" in exc.value.message


def test_a_missing_path_is_an_input_error():
    with pytest.raises(InputError) as exc:
        load_manifests(["/nonexistent/np.yaml"])
    assert exc.value.message == "no such file or directory: /nonexistent/np.yaml"


def test_a_path_given_twice_is_read_once(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(cm("one")))
    assert names(load_manifests([f, str(f)])) == ["one"]


def test_offline_diagnosis_and_lint_of_files_leave_the_simulator_alone(tmp_path):
    import subprocess
    import sys

    f = tmp_path / "pool.yaml"
    f.write_text(
        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: gpu}\n"
        "spec: {template: {spec: {nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}}}}\n"
    )
    code = (
        "import sys\n"
        "from gputui.kube.snapshot_source import snapshot_from_files\n"
        "from gputui.nodepool.lint import read_manifests\n"
        f"snap = snapshot_from_files([{str(f)!r}])\n"
        f"assert [o.obj['kind'] for o in read_manifests([{str(f)!r}])] == ['NodePool']\n"
        "assert [np.metadata.name for np in snap.nodepools] == ['gpu'], snap.nodepools\n"
        "print(sorted(m for m in sys.modules if m.startswith('gputui.sim')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
