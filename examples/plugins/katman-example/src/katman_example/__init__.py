"""An example katman plugin package."""

from katman_example.losses import pseudo_huber
from katman_example.regularizers import CenteredL2

__all__ = ["CenteredL2", "pseudo_huber"]
