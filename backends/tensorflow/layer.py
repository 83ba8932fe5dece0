"""What a katman layer is on tensorflow: a ``tf.Module``."""

from __future__ import annotations

from typing import Any

import tensorflow as tf


class TensorFlowLayer(tf.Module):
    """The tensorflow side of ``katman.layers.Layer``.

    A katman layer is a ``tf.Module``: ``tf.train.Checkpoint(model=model)`` saves its
    ``tf.Variable`` objects, and its ``variables`` are katman Variables whose ``handle`` is
    the ``tf.Variable``.
    """

    # The layer tracks its own attributes; tf's automatic wrapping of lists and dicts into
    # tracked containers would change their types under the layer's feet.
    _self_setattr_tracking = False

    def _backend_init(self) -> None:
        tf.Module.__init__(self)
        self._tf_variables: list[tf.Variable] = []

    def _track_native_variable(self, variable: Any) -> None:
        self._tf_variables.append(variable.handle)

    def _trackable_children(self, save_type: str = "checkpoint", **kwargs: Any) -> dict:
        children = {f"variable_{i}": v for i, v in enumerate(self._tf_variables)}
        for index, layer in enumerate(getattr(self, "_tracked_layers", ())):
            children[f"layer_{index}"] = layer
        return children
