"""The plugin module the entry point names: its hook registers the package's objects.

Targets are given as import paths, so katman imports this package's modules only when a user
asks for one of its objects.
"""

import katman


@katman.hookimpl
def katman_register(registry):
    registry.add("loss", "pseudo_huber", "katman_example.losses:pseudo_huber")
    registry.add("regularizer", "CenteredL2", "katman_example.regularizers:CenteredL2")
