"""A seeded mutation fuzzer over what `gputui diagnose --from` reads.

The built-in scenarios' objects get wrong-shaped fields (tests/helpers/mutations.py: wrong
types, missing fields, 10^30, 1 MB strings, deep nesting, odd unicode, non-UTF-8 bytes,
non-string keys) and go through the diagnose command's own handler in-process: the loader's
checks and completion, the snapshot, every check and the JSON and text reports. A run may end
in a GputuiError (one line, its exit code); nothing else may escape, no check may fail
(GPU901: a check that is not robust), and no case may hang.

Each case mutates MUTATIONS_PER_CASE objects of one scenario. Objects left alone are loaded
once per scenario; mutated ones go through the loader on their own (with the scenario's
clock), which is what loading the whole file does to them. GPUTUI_FUZZ_COUNT=50000 runs more
mutations (default 5,000), GPUTUI_FUZZ_SEED=N another sequence."""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import os
import random
import signal
import threading

import pytest

from checks.registry import INTERNAL_ERROR_CODE
from checks.snapshot import KIND_TO_ATTR
from gputui.commands import diagnose
from gputui.errors import EXIT_FINDINGS, EXIT_INPUT, EXIT_OK, EXIT_PARTIAL, GputuiError
from gputui.sim import scenario_build
from gputui.sim.loader import Loaded, prepare_objects
from gputui.sim.scenario_index import scenario_names
from gputui.sim.timestamps import newest_time
from tests.helpers.mutations import mutate

SEED = int(os.environ.get("GPUTUI_FUZZ_SEED") or 20261207)
MUTATIONS = int(os.environ.get("GPUTUI_FUZZ_COUNT") or 5000)
MUTATIONS_PER_CASE = 20
CASE_LIMIT_S = 20  # a case taking longer than this counts as a hang

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("fuzz-inputs")]

META = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "gputui-snapshot", "namespace": "default", "labels": {"gputui.dev/snapshot": "meta"}},
    "data": {
        "context": "prod",
        "server": "https://example:443",
        "gatheredAt": "2026-11-30T02:00:00Z",
        "incomplete": '[{"resource": "pods/log", "reason": "ServerError", "message": "500"}]',
        "karpenterApiVersion": "karpenter.sh/v1",
    },
}


class _Scenario:
    def __init__(self, name: str):
        self.docs = [obj for _, obj in scenario_build.scenario_documents(name)] + [META]
        self.now = newest_time(self.docs)
        whole = {_key(o): o for o in prepare_objects(self.docs, now=self.now)}
        self.prepared = [[whole.get(_key(d)) or whole[_key(d, "default")]] for d in self.docs]
        self.readable = [i for i, d in enumerate(self.docs) if d["kind"] in KIND_TO_ATTR or d is META]

    def _prepare(self, doc: dict) -> list[dict]:
        """The completed object, without the stand-in CRDs the loader adds for a custom kind alone."""
        return [o for o in prepare_objects([doc], now=self.now) if o["kind"] == doc["kind"]]


def _key(obj: dict, namespace: str = "") -> tuple[str, str, str]:
    md = obj["metadata"]
    return obj["kind"], md["name"], md.get("namespace") or namespace


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _bounded(seconds: float):
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum, frame):
        raise _Hang

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _diagnose(objects: Loaded, output: str) -> tuple[int, str]:
    """The diagnose command's handler, as `gputui diagnose --from` runs it, on these objects."""
    args = argparse.Namespace(
        from_paths=["fuzz"],
        read_offline=lambda paths: objects,
        output=output,
        checks=None,
        nodes=None,
        nodepools=None,
        namespace=None,
        min_severity="info",
        fail_on="error",
        no_progress=True,
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = diagnose.run(args)
    return code, out.getvalue()


def test_mutated_scenarios_never_crash_a_diagnosis():
    rng = random.Random(SEED)
    scenarios = {name: _Scenario(name) for name in scenario_names()}
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    done = 0
    case = 0
    while done < MUTATIONS:
        case += 1
        name = rng.choice(sorted(scenarios))
        sc = scenarios[name]
        objects = list(sc.prepared)
        changes: list[str] = []
        try:
            with _bounded(CASE_LIMIT_S):
                for i in rng.sample(sc.readable, MUTATIONS_PER_CASE):
                    mutated, what = mutate(sc.docs[i], rng)
                    change = f"{sc.docs[i]['kind']} {(sc.docs[i]['metadata'] or {}).get('name')}: {what}"
                    done += 1
                    try:
                        objects[i] = sc._prepare(mutated)
                    except GputuiError as e:  # the loader refused it: one line, exit 5, as the whole file would
                        assert e.exit_code == EXIT_INPUT and "\n" not in e.message, (e.exit_code, e.message, change)
                        outcomes["mutations refused by the loader (exit 5)"] += 1
                        continue
                    changes.append(change)
                outcomes["mutations diagnosed"] += len(changes)
                loaded = Loaded(o for group in objects for o in group)
                code, out = _diagnose(loaded, "text" if case % 4 == 0 else "json")
        except GputuiError as e:
            outcomes[f"diagnoses ending in exit {e.exit_code}"] += 1
            assert e.exit_code == EXIT_INPUT and "\n" not in e.message, (e.exit_code, e.message, changes)
            continue
        except _Hang:
            failures.append(f"case {case} ({name}) did not finish within {CASE_LIMIT_S}s: {changes}")
            continue
        except Exception as e:  # noqa: BLE001 - what the fuzzer looks for
            failures.append(f"case {case} ({name}) raised {type(e).__name__}: {e}: {changes}")
            continue
        outcomes[f"diagnoses ending in exit {code}"] += 1
        assert code in (EXIT_OK, EXIT_FINDINGS, EXIT_PARTIAL), (code, changes)
        if INTERNAL_ERROR_CODE in out:
            failed = [line.strip() for line in out.splitlines() if "raised" in line][:1]
            failures.append(f"case {case} ({name}): a check failed (GPU901): {failed}: {changes}")
    print(f"\n{done} mutations in {case} cases: {dict(outcomes)}")
    assert not failures, f"{len(failures)} of {case} cases failed:\n" + "\n".join(failures[:20])
