"""Metrics.

Every name in this namespace comes from the plugin registry (kind ``"metric"``): the built-in
plugins and any installed third-party plugin. ``get``, ``serialize`` and ``deserialize``
work as in Keras.
"""

from katman._namespace import Namespace

__all__ = ["Metric", "deserialize", "get", "serialize"]

get, serialize, deserialize, __getattr__, __dir__ = Namespace(
    __name__, "metric", core={"Metric": "katman.metrics.metric:Metric"}
).exports()
