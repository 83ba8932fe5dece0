"""Every op record, on the active backend: values, dtypes and symbolic specs, then gradients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

import katman
from katman.conformance import deviations, harness
from katman.conformance.records import OpRecord, all_records
from katman.conformance.records import random as random_records
from katman.errors import OpNotSupportedError

RECORDS = all_records()


def _id(record: OpRecord) -> str:
    op = katman.registry.get_registry().find("op", record.name)
    area = op.load().area if op is not None else "unregistered"
    return f"{area}/{record.name}"


def _run(record: OpRecord, check: str, body: Callable[[], None]) -> None:
    if katman.registry.get_registry().find("op", record.name) is None:
        pytest.fail(f"op {record.name!r} has a conformance record but is not registered")
    op = katman.ops.__getattr__(record.name)
    if op.kernel_for(katman.backend.get_backend()) is None:
        pytest.skip(f"unsupported: no kernel or fallback for {record.name}")
    reason = deviations.reason_for(record.name, check)
    try:
        body()
    except OpNotSupportedError as err:
        pytest.skip(f"unsupported: {err}")
    except harness.ConformanceFailure:
        if reason:
            pytest.xfail(f"declared deviation: {reason}")
        raise
    if reason:
        pytest.fail(f"stale deviation: {record.name}:{check} is declared ({reason}) but passes")


@pytest.mark.parametrize("record", RECORDS, ids=_id)
def test_values(record: OpRecord) -> None:
    @given(sample=record.sample)
    def check(sample: harness.Sample) -> None:
        harness.check_values_and_specs(record, sample)

    _run(record, "values", check)


def _gradient_settings() -> settings:
    # Gradient checks cost a finite difference per element: a quarter of the examples.
    return settings(max_examples=max(5, settings().max_examples // 4),
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


GRADIENT_RECORDS = [r for r in RECORDS if r.grad]


@pytest.mark.parametrize("record", GRADIENT_RECORDS, ids=_id)
def test_gradients(record: OpRecord) -> None:
    op = katman.ops.__getattr__(record.name)
    if not op.differentiable:
        pytest.fail(f"{record.name} is not differentiable; set grad=False in its record")

    @_gradient_settings()
    @given(
        sample=record.sample.filter(
            lambda s: any(
                getattr(a, "dtype", None) is not None and a.dtype.kind == "f" for a in s.args
            )
        )
    )
    def check(sample: harness.Sample) -> None:
        harness.check_gradients(record, sample)

    _run(record, "gradients", check)


def test_every_registered_op_has_a_record() -> None:
    # Random ops have records of their own, checked by test_random.py.
    recorded = {r.name for r in RECORDS} | {r.name for r in random_records.RECORDS}
    registered = {e.name for e in katman.registry.get_registry().entries("op") if e.builtin}
    assert registered <= recorded, (
        f"ops without a conformance record: {sorted(registered - recorded)}"
    )
