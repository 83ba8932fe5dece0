"""Layers — the building blocks of models.

Every name in this namespace comes from the plugin registry (kind ``"layer"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Input", "InputLayer", "InputSpec", "Layer", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__,
    "layer",
    core={
        "Layer": "katman.layers.layer:Layer",
        "InputSpec": "katman.layers.layer:InputSpec",
        "Input": "katman.layers.input_layer:Input",
        "InputLayer": "katman.layers.input_layer:InputLayer",
    },
).exports()
