"""The random samplers on the active backend. They have no NumPy reference to match value for
value, so each is checked for what a sampler promises (records in ``records/random.py``):

* determinism: the same int seed gives identical arrays, other seeds different ones;
* shapes and dtypes: hypothesis-drawn calls give the asked shape and dtype, agree with the
  symbolic result, stay within the distribution's support and repeat with the same seed;
* moments: a big sample's means, variances and frequencies lie within ``Z_LIMIT`` standard
  errors of their analytic values.

All seeds are fixed (hypothesis's ``ci`` profile is derandomized), so a run is reproducible.
Every check is a ``test_values`` test with the id ``random/<op>``: the summary counts them as
the op's value checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

import katman
from katman.conformance import deviations, harness
from katman.conformance.records.random import RANDOM_RECORDS, RandomRecord
from katman.conformance.strategies import Sample
from katman.errors import OpNotSupportedError

# A statistic fails beyond this many standard errors from its analytic value: with the
# number of statistics checked, a correct sampler fails with odds far below one in 10**4.
Z_LIMIT = 5.0
SEED = 1234
# Seeds that must give other numbers than SEED: the next one, and ones that differ from it
# only in high bits (a backend keeping 32 bits of the seed would repeat itself).
OTHER_SEEDS = (SEED + 1, SEED + 2**32, SEED + 2**62)


def _id(record: RandomRecord) -> str:
    entry = katman.registry.get_registry().find("op", record.name)
    area = entry.load().area if entry is not None else "unregistered"
    return f"{area}/{record.name}"


def _run(record: RandomRecord, body: Callable[[], None]) -> None:
    """Run a check the way the op suite does: unsupported ops skip, declared deviations of
    the backend turn failures into expected ones (and are stale if the check passes)."""
    if katman.registry.get_registry().find("op", record.name) is None:
        pytest.fail(f"op {record.name!r} has a conformance record but is not registered")
    reason = deviations.reason_for(record.name, "values")
    try:
        body()
    except OpNotSupportedError as err:
        pytest.skip(f"unsupported: {err}")
    except harness.ConformanceFailure:
        if reason:
            pytest.xfail(f"declared deviation: {reason}")
        raise
    if reason:
        pytest.fail(f"stale deviation: {record.name}:values is declared ({reason}) but passes")


def _call(record: RandomRecord, sample: Sample) -> Any:
    """The op's result for ``sample`` (a tensor of the active backend)."""
    op = katman.ops.__getattr__(record.name)
    args, kwargs = harness.to_tensors(sample)
    try:
        return op(*args, **kwargs)
    except OpNotSupportedError:
        raise
    except Exception as err:
        raise harness.ConformanceFailure(
            f"{record.name} raised {type(err).__name__}: {err}"
            + harness.reproducer(record.name, sample)
        ) from err


def _fail(record: RandomRecord, sample: Sample, problem: str) -> None:
    raise harness.ConformanceFailure(
        f"{record.name}: {problem}" + harness.reproducer(record.name, sample)
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def _with_seed(sample: Sample, seed: int) -> Sample:
    return Sample(sample.args, {**sample.kwargs, "seed": seed})


class TestDeterminism:
    @pytest.mark.parametrize("record", RANDOM_RECORDS, ids=_id)
    def test_values(self, record: RandomRecord) -> None:
        def check() -> None:
            sample = _with_seed(record.large, SEED)
            first = katman.ops.convert_to_numpy(_call(record, sample))
            again = katman.ops.convert_to_numpy(_call(record, sample))
            if not _same(first, again):
                _fail(record, sample, "the same seed gave different values")
            for seed in OTHER_SEEDS:
                other = _with_seed(record.large, seed)
                if _same(first, katman.ops.convert_to_numpy(_call(record, other))):
                    _fail(record, other, f"seeds {SEED} and {seed} gave the same values")

        _run(record, check)


class TestShapesAndDtypes:
    @pytest.mark.parametrize("record", RANDOM_RECORDS, ids=_id)
    def test_values(self, record: RandomRecord) -> None:
        backend = katman.backend.get_backend()
        op = katman.ops.__getattr__(record.name)

        @settings(max_examples=max(5, round(settings().max_examples * record.examples)))
        @given(sample=record.op.sample)
        def check(sample: Sample) -> None:
            result = _call(record, sample)
            values = katman.ops.convert_to_numpy(result)
            shape, dtype = record.expected(sample)
            real = (tuple(values.shape), backend.dtype_of(result))
            if real != (tuple(shape), dtype):
                _fail(record, sample, f"shape/dtype {real[0]}/{real[1]}, asked {shape}/{dtype}")
            sym_args, sym_kwargs = harness.to_symbolic(sample)
            spec = op.symbolic_call(*sym_args, **sym_kwargs)
            if (tuple(spec.shape), spec.dtype) != real:
                _fail(
                    record,
                    sample,
                    f"symbolic shape/dtype {spec.shape}/{spec.dtype}, real {real[0]}/{real[1]}",
                )
            problem = record.support(sample, values.astype("float64"))
            if problem:
                _fail(record, sample, problem)
            if not _same(values, katman.ops.convert_to_numpy(_call(record, sample))):
                _fail(record, sample, "the same seed gave different values")

        _run(record, check)


class TestMoments:
    @pytest.mark.parametrize("record", RANDOM_RECORDS, ids=_id)
    def test_values(self, record: RandomRecord) -> None:
        def check() -> None:
            sample = _with_seed(record.large, SEED)
            values = katman.ops.convert_to_numpy(_call(record, sample)).astype("float64")
            problem = record.support(sample, values)
            if problem:
                _fail(record, sample, problem)
            off = [m for m in record.moments(sample, values) if not m.z <= Z_LIMIT]
            if off:
                _fail(
                    record,
                    sample,
                    "statistics off their analytic values: "
                    + "; ".join(
                        f"{m.label} {m.observed:.6g} vs {m.expected:.6g} ({m.z:.1f} standard "
                        f"errors of {m.stderr:.3g})"
                        for m in off
                    ),
                )

        _run(record, check)


def test_every_random_op_has_a_record() -> None:
    recorded = {record.name for record in RANDOM_RECORDS}
    registered = {
        entry.name
        for entry in katman.registry.get_registry().entries("op")
        if entry.builtin and entry.load().area == "random"
    }
    assert registered <= recorded, (
        f"random ops without a record in records/random.py: {sorted(registered - recorded)}"
    )
