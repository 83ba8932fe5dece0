"""Core ops: casting, indexing, scatter and control flow (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools

import katman
from katman.ops import Op
from katman.registry import PluginRegistrar

# Every op here is reported under the conformance area "core".
_op = functools.partial(Op, area="core")

OPS: tuple[Op, ...] = ()


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)
