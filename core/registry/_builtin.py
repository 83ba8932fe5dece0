"""The plugins that ship with katman, loaded by name exactly like third-party ones.

Each maps a plugin name (what ``katman plugins`` shows and ``KATMAN_BLOCK_PLUGINS`` takes) to
the module holding its hook implementations.
"""

BUILTIN_PLUGINS: dict[str, str] = {
    "backends.torch": "katman.backends.torch.plugin",
    "backends.jax": "katman.backends.jax.plugin",
    "backends.tensorflow": "katman.backends.tensorflow.plugin",
    "ops.math": "katman.plugins.ops.math",
    "ops.elementwise": "katman.plugins.ops.elementwise",
    "ops.reduction": "katman.plugins.ops.reduction",
    "ops.shape": "katman.plugins.ops.shape",
    "ops.creation": "katman.plugins.ops.creation",
    "ops.linalg": "katman.plugins.ops.linalg",
    "ops.nn": "katman.plugins.ops.nn",
    "ops.core": "katman.plugins.ops.core",
    "ops.random": "katman.plugins.ops.random",
    "initializers": "katman.plugins.initializers",
    "activations": "katman.plugins.activations",
    "regularizers": "katman.plugins.regularizers",
    "constraints": "katman.plugins.constraints",
    "losses": "katman.plugins.losses",
    "metrics": "katman.plugins.metrics",
    "optimizers": "katman.plugins.optimizers",
    "schedules": "katman.plugins.schedules",
    "callbacks": "katman.plugins.callbacks",
    "callbacks.saving": "katman.plugins.callbacks_saving",
    "layers": "katman.plugins.layers.plugin",
}

# The order in which an installed framework becomes the default backend.
DEFAULT_BACKEND_ORDER = ("torch", "jax", "tensorflow")
