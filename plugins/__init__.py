"""katman's built-in plugins. Each module registers its objects through the same hooks a
third-party plugin uses; core lists them in ``katman.registry.BUILTIN_PLUGINS``."""
