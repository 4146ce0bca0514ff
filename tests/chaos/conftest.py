"""The chaos suite's shared pipeline and its results file.

One pipeline (see tests/chaos/pipeline.py) serves every scenario of the package: it is
brought up, seeded at scale 0.01 and verified once, then each scenario injects its fault
under live load and ends with the same checks. Per-scenario timings and notes go to
test-artifacts/chaos/results.json and to the terminal.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from connectors.seed import seed
from contracts.settings import REPO_ROOT, Settings
from tests.chaos import matrix
from tests.chaos.pipeline import ChaosPipeline, explain, say
from tests.chaos.scenario import Outcome
from tests.native import NativeProvider

RESULTS_FILE = REPO_ROOT / "test-artifacts" / "chaos" / "results.json"
SEED_SCALE = 0.01


@pytest.fixture(scope="package")
def chaos(service_provider: object, postgres: Settings, kafka: Settings, connect: Settings,
          clickhouse: Settings, superset: Settings) -> Iterator[ChaosPipeline]:
    assert isinstance(service_provider, NativeProvider), (
        "the chaos suite signals the processes the supervisor started; run it with the "
        "native provider (BOXOFFICE_TEST_PROVIDER=native)")
    started = time.monotonic()
    pipeline = ChaosPipeline.create(postgres, f"chaos_{uuid.uuid4().hex[:8]}", say=say)
    try:
        pipeline.up()
        seed(pipeline.settings, scale=SEED_SCALE, seed_value=17)
        report = pipeline.verify()
        assert report.ok, f"the chaos pipeline does not reconcile before any fault: " \
                          f"{explain(report)}"
        print(f"[chaos] pipeline ready in {time.monotonic() - started:.0f} s; "
              f"matrix {'full' if matrix.full_matrix() else f'CI, seed {matrix.seed()}'}")
        yield pipeline
    finally:
        pipeline.remove()


@pytest.fixture(scope="package")
def chaos_results() -> Iterator[list[Outcome]]:
    results: list[Outcome] = []
    yield results
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {"full_matrix": matrix.full_matrix(), "seed": matrix.seed(),
                "scenarios": [o.as_dict() for o in results]}
    RESULTS_FILE.write_text(json.dumps(document, indent=2))
    print(f"\n[chaos] results ({RESULTS_FILE}):")
    for o in results:
        print(f"[chaos] {'PASS' if o.passed else 'FAIL'} {o.scenario}: {o.seconds:.0f} s, "
              f"{o.transactions} tx, verify {o.verify_seconds:.0f} s "
              f"({o.verify_attempts} attempts), notes: {'; '.join(o.notes) or '-'}")


@pytest.fixture
def outcome(request: pytest.FixtureRequest, chaos: ChaosPipeline,
            chaos_results: list[Outcome]) -> Iterator[Outcome]:
    """The running scenario's record; appended to the results whether it passes or not.

    A scenario starts from a consistent pipeline: one a failed scenario left broken is
    repaired first (and the repair noted), so one failure does not fail every later one.
    """
    record = Outcome(scenario=request.node.name)
    chaos.reset_if_broken(record.notes)
    started = time.monotonic()
    try:
        yield record
    finally:
        record.seconds = time.monotonic() - started
        chaos_results.append(record)
