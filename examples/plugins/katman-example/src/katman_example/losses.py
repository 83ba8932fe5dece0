"""A loss written with katman.ops, so it runs on every backend."""

from katman import ops


def pseudo_huber(y_true, y_pred, delta=1.0):
    """Pseudo-Huber loss, averaged over the last axis.

    ``delta**2 * (sqrt(1 + ((y_pred - y_true) / delta)**2) - 1)``: quadratic for small errors,
    linear for large ones, and smooth everywhere.
    """
    scaled = ops.divide(ops.subtract(y_pred, y_true), delta)
    per_value = ops.multiply(
        delta**2, ops.subtract(ops.sqrt(ops.add(1.0, ops.square(scaled))), 1.0)
    )
    return ops.mean(per_value, axis=-1)
