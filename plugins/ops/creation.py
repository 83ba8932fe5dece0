"""Tensor creation (``keras.ops`` names and signatures)."""

from __future__ import annotations

import functools

import katman
from katman.ops import Op
from katman.registry import PluginRegistrar

# Every op here is reported under the conformance area "creation".
_op = functools.partial(Op, area="creation")

OPS: tuple[Op, ...] = ()


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    for op in OPS:
        registry.add("op", op.name, op)
