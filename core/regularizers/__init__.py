"""Weight regularizers.

Every name in this namespace comes from the plugin registry (kind ``"regularizer"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Regularizer", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__, "regularizer", core={"Regularizer": "katman.regularizers.regularizer:Regularizer"}
).exports()
