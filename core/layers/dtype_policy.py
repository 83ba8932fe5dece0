"""Dtype policies: the dtype a layer keeps its variables in and the one it computes in."""

from __future__ import annotations

from typing import Any

from katman.config import floatx
from katman.dtypes import standardize_dtype

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


class DTypePolicy:
    """``DTypePolicy("float32")``, or a mixed policy (``"mixed_float16"``,
    ``"mixed_bfloat16"``) that keeps variables in float32 and computes in half precision.

    Raises:
        ValueError: an unknown policy name.
    """

    def __init__(self, name: str | None = None) -> None:
        name = name or floatx()
        if name in _MIXED:
            self.compute_dtype, self.variable_dtype = _MIXED[name], "float32"
        else:
            try:
                dtype = standardize_dtype(name)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Unknown dtype policy {name!r}: expected a dtype name ('float32', ...) or "
                    f"one of {', '.join(repr(m) for m in _MIXED)}."
                ) from None
            self.compute_dtype = self.variable_dtype = dtype
            name = dtype
        self.name = name

    @classmethod
    def get(cls, identifier: Any) -> DTypePolicy:
        """A policy from None (the default), a name, a dtype or a policy."""
        if isinstance(identifier, DTypePolicy):
            return identifier
        if isinstance(identifier, dict):
            identifier = identifier.get("config", {}).get("name")
        return cls(None if identifier is None else str(standardize_or_name(identifier)))

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


def standardize_or_name(identifier: Any) -> str:
    if isinstance(identifier, str):
        return identifier
    return standardize_dtype(identifier)
