"""Registers the TensorFlow backend (lazily: nothing here imports tensorflow)."""

import katman


@katman.hookimpl
def katman_register(registry: katman.registry.PluginRegistrar) -> None:
    registry.add_backend(
        "tensorflow",
        "katman.backends.tensorflow.backend:TensorFlowBackend",
        requires=("tensorflow",),
        install="pip install 'katman[tensorflow]'",
        deviations="katman.backends.tensorflow.deviations:DEVIATIONS",
    )
