"""The built-in layers plugin.

Layer classes derive from the active backend's module class, so importing them loads the
backend; the registry therefore gets import paths, resolved on first use, and listing plugins
or choosing the backend never imports a layer module.
"""

from __future__ import annotations

import katman
from katman.registry import PluginRegistrar

LAYERS = {
    "core": (
        "Dense",
        "Activation",
        "Identity",
        "Dropout",
        "Flatten",
        "Reshape",
        "Embedding",
    ),
    "conv": (
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
    ),
    "pooling": (
        "MaxPooling1D",
        "MaxPooling2D",
        "MaxPooling3D",
        "AveragePooling1D",
        "AveragePooling2D",
        "AveragePooling3D",
        "GlobalAveragePooling1D",
        "GlobalAveragePooling2D",
        "GlobalAveragePooling3D",
        "GlobalMaxPooling1D",
        "GlobalMaxPooling2D",
        "GlobalMaxPooling3D",
    ),
    "normalization": ("BatchNormalization", "LayerNormalization"),
    "merging": ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"),
}

# Keras's other names for the same layers.
ALIASES = {
    **{f"Conv{d}D": (f"Convolution{d}D",) for d in (1, 2, 3)},
    **{f"Conv{d}DTranspose": (f"Convolution{d}DTranspose",) for d in (1, 2, 3)},
    **{f"MaxPooling{d}D": (f"MaxPool{d}D",) for d in (1, 2, 3)},
    **{f"AveragePooling{d}D": (f"AvgPool{d}D",) for d in (1, 2, 3)},
    **{f"GlobalAveragePooling{d}D": (f"GlobalAvgPool{d}D",) for d in (1, 2, 3)},
    **{f"GlobalMaxPooling{d}D": (f"GlobalMaxPool{d}D",) for d in (1, 2, 3)},
}


@katman.hookimpl
def katman_register(registry: PluginRegistrar) -> None:
    registry.add("layer", "InputLayer", "katman.layers.input_layer:InputLayer")
    registry.add("layer", "Functional", "katman.models.functional:Functional")
    registry.add("layer", "Sequential", "katman.models.sequential:Sequential")
    registry.add("layer", "Lambda", "katman.plugins.layers.lambda_layer:Lambda")
    registry.add("layer", "Model", "katman.models.model:Model")
    for module, names in LAYERS.items():
        for name in names:
            registry.add(
                "layer",
                name,
                f"katman.plugins.layers.{module}:{name}",
                aliases=ALIASES.get(name, ()),
            )
