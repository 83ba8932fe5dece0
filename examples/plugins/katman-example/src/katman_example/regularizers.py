"""A regularizer class: callable on a weight, serializable through get_config."""

from katman import ops


class CenteredL2:
    """Penalizes the squared distance of weights from ``center``: ``factor * sum((w - c)**2)``."""

    def __init__(self, factor=0.01, center=0.0):
        if factor < 0:
            raise ValueError(f"CenteredL2: factor must be >= 0, got {factor}.")
        self.factor = float(factor)
        self.center = float(center)

    def __call__(self, weights):
        return ops.multiply(self.factor, ops.sum(ops.square(ops.subtract(weights, self.center))))

    def get_config(self):
        return {"factor": self.factor, "center": self.center}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
