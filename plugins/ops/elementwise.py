"""Elementwise math, comparisons and logic (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools

import katman
from katman.ops import Op
from katman.registry import PluginRegistrar

# Every op here is reported under the conformance area "elementwise".
_op = functools.partial(Op, area="elementwise")

OPS: tuple[Op, ...] = ()


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)
