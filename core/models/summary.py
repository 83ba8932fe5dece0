"""``model.summary()``: the layers, their output shapes and parameter counts, in a table
laid out as Keras prints it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from katman.layers.input_layer import InputLayer


def _output_shape(layer: Any) -> str:
    if not layer._inbound_nodes:
        return "?"
    outputs = layer._inbound_nodes[-1].output_tensors
    shapes = [tuple(t.shape) for t in outputs]
    if len(shapes) == 1:
        return str(shapes[0]) if len(shapes[0]) != 1 else f"({shapes[0][0]},)"
    return "[" + ", ".join(str(s) for s in shapes) + "]"


def _count(layer: Any) -> int:
    total = 0
    for variable in layer.weights:
        size = 1
        for dim in variable.shape:
            size *= dim
        total += size
    return total


def _bytes(model: Any, variables: list[Any]) -> str:
    from katman.dtypes import standardize_dtype

    size = 0
    for variable in variables:
        count = 1
        for dim in variable.shape:
            count *= dim
        bits = int("".join(c for c in standardize_dtype(variable.dtype) if c.isdigit()) or 8)
        size += count * max(bits, 8) // 8
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}"
    return f"{size:.2f} B"


def _connections(model: Any, layer: Any) -> str:
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return ""
    found = []
    for node in nodes:
        if node.layer is layer:
            for tensor in node.input_tensors:
                source, index, position = tensor._keras_history
                found.append(f"{source.name}[{index}][{position}]")
    return ", ".join(found) or "-"


def print_summary(
    model: Any,
    line_length: int | None = None,
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
) -> None:
    emit = print_fn or print
    layers = list(model.layers)
    functional = hasattr(model, "_nodes")
    sequential_like = not functional or all(
        len([n for n in model._nodes if n.layer is layer]) <= 1
        and len(next(n for n in model._nodes if n.layer is layer).input_tensors) <= 1
        for layer in layers
    )
    headers = ["Layer (type)", "Output Shape", "Param #"]
    rows = []
    for layer in layers:
        if isinstance(layer, InputLayer) and sequential_like:
            continue
        row = [f"{layer.name} ({type(layer).__name__})", _output_shape(layer), f"{_count(layer):,}"]
        if not sequential_like:
            row.append(_connections(model, layer))
        if show_trainable:
            row.append("Y" if layer.trainable else "N")
        rows.append(row)
    if not sequential_like:
        headers.append("Connected to")
    if show_trainable:
        headers.append("Trainable")
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) + 2 if rows else len(h) + 2
        for i, h in enumerate(headers)
    ]
    if line_length:
        extra = line_length - sum(widths) - len(widths) - 1
        if extra > 0:
            widths[0] += extra
    right = {2}

    def cells(values: list[str], left: str, sep: str, end: str) -> str:
        parts = []
        for i, value in enumerate(values):
            text = (
                value.rjust(widths[i] - 1) + " " if i in right else " " + value.ljust(widths[i] - 1)
            )
            parts.append(text)
        return left + sep.join(parts) + end

    def rule(left: str, fill: str, sep: str, end: str) -> str:
        return left + sep.join(fill * w for w in widths) + end

    emit(f'Model: "{model.name}"')
    emit(rule("┏", "━", "┳", "┓"))
    emit(cells(headers, "┃", "┃", "┃"))
    emit(rule("┡", "━", "╇", "┩"))
    for index, row in enumerate(rows):
        emit(cells(row, "│", "│", "│"))
        if index < len(rows) - 1:
            emit(rule("├", "─", "┼", "┤"))
    emit(rule("└", "─", "┴", "┘"))
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    total = trainable + non_trainable

    def count(variables: list[Any]) -> int:
        result = 0
        for variable in variables:
            size = 1
            for dim in variable.shape:
                size *= dim
            result += size
        return result

    emit(f" Total params: {count(total):,} ({_bytes(model, total)})")
    emit(f" Trainable params: {count(trainable):,} ({_bytes(model, trainable)})")
    emit(f" Non-trainable params: {count(non_trainable):,} ({_bytes(model, non_trainable)})")
    if getattr(model, "optimizer", None) is not None and model.optimizer.built:
        slots = model.optimizer.variables
        emit(f" Optimizer params: {count(slots):,} ({_bytes(model, slots)})")
