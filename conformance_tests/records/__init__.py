"""Conformance records: for each op, how to draw its arguments and what to check.

Adding an op to the suite is one :class:`OpRecord` in the family module it belongs to; the
generic harness (``katman.conformance.harness``) does the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from katman.conformance.strategies import Sample

# The family modules, each with a RECORDS tuple.
FAMILIES = (
    "math",
    "elementwise",
    "reduction",
    "shape",
    "creation",
    "linalg",
    "nn",
    "core",
)


@dataclass(frozen=True)
class OpRecord:
    """How the suite exercises one op.

    Args:
        name: the op's name in ``katman.ops``.
        sample: draws the op's arguments.
        grad: check gradients (also needs the op to be differentiable); ``grad_args`` are the
            positions of the arguments to differentiate.
        reference: replaces the op's own NumPy reference (e.g. to adapt arguments).
        rtol: per-dtype relative tolerances that replace the defaults.
        symbolic: check the symbolic shape and dtype against the real result.
    """

    name: str
    sample: st.SearchStrategy[Sample]
    grad: bool = True
    grad_args: tuple[int, ...] = (0,)
    reference: Callable[..., Any] | None = None
    rtol: dict[str, float] = field(default_factory=dict)
    symbolic: bool = True


def all_records() -> list[OpRecord]:
    records: list[OpRecord] = []
    for family in FAMILIES:
        records.extend(importlib.import_module(f"katman.conformance.records.{family}").RECORDS)
    return records
