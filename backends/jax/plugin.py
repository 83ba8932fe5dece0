"""Registers the JAX backend (lazily: nothing here imports jax)."""

import katman


@katman.hookimpl
def katman_register(registry: katman.registry.PluginRegistrar) -> None:
    registry.add_backend(
        "jax",
        "katman.backends.jax.backend:JAXBackend",
        requires=("jax",),
        install="pip install 'katman[jax]'",
        deviations="katman.backends.jax.deviations:DEVIATIONS",
    )
