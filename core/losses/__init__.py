"""Losses, as functions and as classes.

Every name in this namespace comes from the plugin registry (kind ``"loss"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Loss", "LossFunctionWrapper", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__,
    "loss",
    core={
        "Loss": "katman.losses.loss:Loss",
        "LossFunctionWrapper": "katman.losses.loss:LossFunctionWrapper",
    },
).exports()
