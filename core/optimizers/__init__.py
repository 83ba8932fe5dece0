"""Optimizers.

Every name in this namespace comes from the plugin registry (kind ``"optimizer"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Optimizer", "deserialize", "get", "schedules", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__,
    "optimizer",
    core={
        "Optimizer": "katman.optimizers.optimizer:Optimizer",
        "schedules": "katman.optimizers.schedules:",
    },
).exports()
