"""Tensor operations with Keras's ``keras.ops`` names, run by the active backend.

Each op is an :class:`Op` registered by a plugin (kind ``"op"``); ``katman.ops.NAME`` looks
it up in the registry. The first call imports the active backend's framework.

Example:
    >>> import katman
    >>> x = katman.ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> katman.ops.convert_to_numpy(katman.ops.sum(x, axis=0))
    array([4., 6.], dtype=float32)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from katman._namespace import Namespace
from katman.backend import get_backend
from katman.dtypes import standardize_dtype
from katman.ops._op import Op

__all__ = ["Op", "convert_to_numpy", "convert_to_tensor", "dtype", "is_tensor"]


def convert_to_tensor(x: Any, dtype: str | None = None) -> Any:
    """``x`` (scalar, nested list, NumPy array or tensor) as a tensor of the active backend.

    A Python float becomes ``katman.config.floatx()``; a Python int ``int32``; NumPy arrays
    keep their dtype unless ``dtype`` is given.
    """
    return get_backend().convert_to_tensor(x, dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """A tensor (or anything array-like) as a NumPy array."""
    return get_backend().convert_to_numpy(x)


def dtype(x: Any) -> str:
    """The katman dtype name (``"float32"``, ...) of a tensor, variable or KerasTensor."""
    value = getattr(x, "dtype", None)
    if isinstance(value, str):
        return value
    backend = get_backend()
    return backend.dtype_of(x) if backend.is_tensor(x) else standardize_dtype(value)


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a tensor of the active backend."""
    return get_backend().is_tensor(x)


_namespace = Namespace(__name__, "op", instantiate=False)
__getattr__ = _namespace.getattr
__dir__ = _namespace.dir


# The built-in ops, declared for IDEs and type checkers; at run time every name resolves
# through the registry (``__getattr__`` above). tests/test_ops.py keeps this list in sync.
if TYPE_CHECKING:
    abs: Op
    absolute: Op
    add: Op
    all: Op
    amax: Op
    amin: Op
    any: Op
    append: Op
    arange: Op
    arccos: Op
    arccosh: Op
    arcsin: Op
    arcsinh: Op
    arctan: Op
    arctan2: Op
    arctanh: Op
    argmax: Op
    argmin: Op
    argsort: Op
    average: Op
    average_pool: Op
    batch_normalization: Op
    beta: Op
    binary_crossentropy: Op
    binomial: Op
    broadcast_to: Op
    cast: Op
    categorical: Op
    categorical_crossentropy: Op
    ceil: Op
    celu: Op
    cholesky: Op
    cholesky_inverse: Op
    clip: Op
    concatenate: Op
    cond: Op
    conv: Op
    conv_transpose: Op
    copysign: Op
    cos: Op
    cosh: Op
    count_nonzero: Op
    cross: Op
    cumprod: Op
    cumsum: Op
    custom_gradient: Op
    deg2rad: Op
    depthwise_conv: Op
    det: Op
    diag: Op
    diagonal: Op
    divide: Op
    divide_no_nan: Op
    dot: Op
    dot_product_attention: Op
    dropout: Op
    eigh: Op
    einsum: Op
    elu: Op
    equal: Op
    exp: Op
    exp2: Op
    expand_dims: Op
    expm1: Op
    eye: Op
    flip: Op
    floor: Op
    floor_divide: Op
    fori_loop: Op
    full: Op
    full_like: Op
    gamma: Op
    gelu: Op
    glu: Op
    greater: Op
    greater_equal: Op
    hard_shrink: Op
    hard_sigmoid: Op
    hard_silu: Op
    hard_tanh: Op
    heaviside: Op
    hstack: Op
    hypot: Op
    identity: Op
    inner: Op
    inv: Op
    isclose: Op
    isfinite: Op
    isinf: Op
    isnan: Op
    leaky_relu: Op
    less: Op
    less_equal: Op
    linspace: Op
    log: Op
    log10: Op
    log1p: Op
    log2: Op
    log_sigmoid: Op
    log_softmax: Op
    logaddexp: Op
    logical_and: Op
    logical_not: Op
    logical_or: Op
    logical_xor: Op
    logspace: Op
    logsumexp: Op
    lstsq: Op
    lu_factor: Op
    map: Op
    matmul: Op
    matrix_rank: Op
    max: Op
    max_pool: Op
    maximum: Op
    mean: Op
    median: Op
    meshgrid: Op
    min: Op
    minimum: Op
    mod: Op
    moments: Op
    moveaxis: Op
    multi_hot: Op
    multiply: Op
    nan_to_num: Op
    ndim: Op
    negative: Op
    norm: Op
    normal: Op
    normalize: Op
    not_equal: Op
    one_hot: Op
    ones: Op
    ones_like: Op
    outer: Op
    pad: Op
    pinv: Op
    positive: Op
    power: Op
    prod: Op
    qr: Op
    quantile: Op
    rad2deg: Op
    randint: Op
    ravel: Op
    reciprocal: Op
    relu: Op
    relu6: Op
    repeat: Op
    reshape: Op
    roll: Op
    round: Op
    rsqrt: Op
    scan: Op
    scatter: Op
    scatter_update: Op
    selu: Op
    separable_conv: Op
    shape: Op
    shuffle: Op
    sigmoid: Op
    sign: Op
    signbit: Op
    silu: Op
    sin: Op
    sinh: Op
    size: Op
    slice: Op
    slice_update: Op
    soft_shrink: Op
    softmax: Op
    softplus: Op
    softsign: Op
    solve: Op
    solve_triangular: Op
    sort: Op
    sparse_categorical_crossentropy: Op
    sparse_plus: Op
    split: Op
    sqrt: Op
    square: Op
    squareplus: Op
    squeeze: Op
    stack: Op
    std: Op
    stop_gradient: Op
    subtract: Op
    sum: Op
    svd: Op
    swapaxes: Op
    switch: Op
    take: Op
    take_along_axis: Op
    tan: Op
    tanh: Op
    tanh_shrink: Op
    tensordot: Op
    tile: Op
    top_k: Op
    trace: Op
    transpose: Op
    tri: Op
    tril: Op
    triu: Op
    true_divide: Op
    trunc: Op
    truncated_normal: Op
    uniform: Op
    var: Op
    vdot: Op
    vectorized_map: Op
    vstack: Op
    where: Op
    while_loop: Op
    zeros: Op
    zeros_like: Op
