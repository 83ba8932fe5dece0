"""``Input``: the symbolic tensor a functional model starts from, made by an InputLayer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from katman.config import floatx
from katman.layers.layer import Layer
from katman.layers.node import Node
from katman.symbolic import KerasTensor


class InputLayer(Layer):
    """The layer behind :func:`Input`: it has no weights and one output, its KerasTensor."""

    def __init__(
        self,
        shape: Sequence[int | None] | None = None,
        batch_size: int | None = None,
        dtype: Any = None,
        sparse: bool | None = None,
        batch_shape: Sequence[int | None] | None = None,
        input_tensor: KerasTensor | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("batch_input_shape", None) if batch_shape is None else None
        super().__init__(name=name, **kwargs)
        if sparse:
            raise ValueError(f"InputLayer {self.name!r}: sparse inputs are not supported.")
        if input_tensor is not None:
            batch_shape = input_tensor.shape
            dtype = dtype or input_tensor.dtype
        if batch_shape is None:
            if shape is None:
                raise ValueError(
                    f"InputLayer {self.name!r}: pass `shape` (one sample's shape, e.g. (28, 28)) "
                    "or `batch_shape`."
                )
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *tuple(shape))
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._dtype_name = str(dtype) if dtype is not None else floatx()
        self.built = True
        self.output = KerasTensor(self.batch_shape, self._dtype_name, name=self.name)
        Node(self, (), {}, self.output)

    @property
    def dtype(self) -> str:
        return self.output.dtype

    def call(self, inputs: Any) -> Any:
        return inputs

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_shape": list(self.batch_shape),
            "dtype": self.output.dtype,
            "sparse": False,
            "name": self.name,
        }


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    batch_shape: Sequence[int | None] | None = None,
    name: str | None = None,
    tensor: KerasTensor | None = None,
    optional: bool = False,
) -> KerasTensor:
    """A symbolic input for a functional model: one sample's ``shape`` (the batch size is
    left open unless ``batch_size`` or ``batch_shape`` fixes it).

    Example:
        >>> import katman
        >>> inputs = katman.Input(shape=(28, 28, 1))
        >>> inputs.shape
        (None, 28, 28, 1)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        batch_shape=batch_shape,
        input_tensor=tensor,
        name=name,
    )
    return layer.output
