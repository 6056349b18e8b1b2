"""JSON and YAML renderings of the diagnose/v1 document."""

from __future__ import annotations

import json
from typing import Any, TextIO


def write_json(doc: dict[str, Any], out: TextIO) -> None:
    json.dump(doc, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_yaml(doc: dict[str, Any], out: TextIO) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    yaml.dump(doc, out, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
