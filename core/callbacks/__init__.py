"""Callbacks for fit, evaluate and predict.

Every name in this namespace comes from the plugin registry (kind ``"callback"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Callback", "CallbackList", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__,
    "callback",
    core={
        "Callback": "katman.callbacks.callback:Callback",
        "CallbackList": "katman.callbacks.callback:CallbackList",
    },
).exports()
