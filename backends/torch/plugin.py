"""Registers the PyTorch backend (lazily: nothing here imports torch)."""

import katman


@katman.hookimpl
def katman_register(registry: katman.registry.PluginRegistrar) -> None:
    registry.add_backend(
        "torch",
        "katman.backends.torch.backend:TorchBackend",
        requires=("torch",),
        install="pip install 'katman[torch]'",
        deviations="katman.backends.torch.deviations:DEVIATIONS",
    )
