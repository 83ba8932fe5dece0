"""Weight initializers.

Every name in this namespace comes from the plugin registry (kind ``"initializer"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Initializer", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__, "initializer", core={"Initializer": "katman.initializers.initializer:Initializer"}
).exports()
