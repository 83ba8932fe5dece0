"""Neural-network ops: activations, softmax, encodings, cross-entropies, normalization,
convolutions, pooling and attention."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from katman import config
from katman.backend import Backend
from katman.backends.torch.dtypes import TORCH_DTYPES
from katman.dtypes import result_type, standardize_dtype

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_CHANNELS_LAST = {4: torch.channels_last, 5: torch.channels_last_3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _tuple(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"Expected an int or {n} ints, got {value!r}.")
    return value


def _image_format(data_format: str | None) -> str:
    fmt = config.image_data_format() if data_format is None else data_format.lower()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}."
        )
    return fmt


def _padding(padding: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return padding


def _same_pads(size: int, window: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _torch_pads(pads: Sequence[tuple[int, int]]) -> list[int]:
    """Per-axis (before, after) pads in F.pad's order: the last axis first."""
    return [p for pair in reversed(pads) for p in pair]


def _conv_transpose_geometry(
    size: int, kernel: int, stride: int, padding: str, output_padding: int | None, dilation: int
) -> tuple[int, int]:
    """Keras's transposed-convolution output length along one axis, and its offset within
    the full transposed convolution."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra, 0
    if output_padding is None:
        length, pad = size * stride, stride + span - 2
    else:
        length = (size - 1) * stride + span % 2 + output_padding
        pad = span + span % 2 - 2 + output_padding
    left = min(pad // 2 + pad % 2, span - 1)
    return length, span - 1 - left


def kernels(backend: Backend) -> dict[str, Callable[..., Any]]:
    def tensor(x: Any) -> torch.Tensor:
        return backend.convert_to_tensor(x)

    def floating(x: Any) -> torch.Tensor:
        x = tensor(x)
        if x.is_floating_point():  # the usual case: nothing to work out
            return x
        return backend.convert_to_tensor(x, result_type(backend.dtype_of(x), float))

    def floats(*values: Any) -> list[torch.Tensor]:
        """``values`` (None kept) converted to their common floating dtype."""
        tensors = [None if v is None else tensor(v) for v in values]
        dtype = result_type(*(backend.dtype_of(t) for t in tensors if t is not None), float)
        return [None if t is None else backend.convert_to_tensor(t, dtype) for t in tensors]

    def like(x: Any, reference: torch.Tensor) -> torch.Tensor:
        return backend.convert_to_tensor(x, backend.dtype_of(reference))

    # --- activations ------------------------------------------------------------------------

    def relu(x: Any) -> torch.Tensor:
        return torch.relu(tensor(x))

    def relu6(x: Any) -> torch.Tensor:
        return torch.clamp(tensor(x), 0, 6)

    def sigmoid(x: Any) -> torch.Tensor:
        return torch.sigmoid(floating(x))

    def softplus(x: Any) -> torch.Tensor:
        return F.softplus(floating(x), threshold=40.0)

    def softsign(x: Any) -> torch.Tensor:
        return F.softsign(floating(x))

    def silu(x: Any) -> torch.Tensor:
        return F.silu(floating(x))

    def gelu(x: Any, approximate: bool = True) -> torch.Tensor:
        return F.gelu(floating(x), approximate="tanh" if approximate else "none")

    def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
        return F.elu(floating(x), alpha=alpha)

    def selu(x: Any) -> torch.Tensor:
        return F.selu(floating(x))

    def leaky_relu(x: Any, negative_slope: float = 0.2) -> torch.Tensor:
        return F.leaky_relu(floating(x), negative_slope=negative_slope)

    def hard_sigmoid(x: Any) -> torch.Tensor:
        return F.hardsigmoid(floating(x))

    def hard_silu(x: Any) -> torch.Tensor:
        return F.hardswish(floating(x))

    def log_sigmoid(x: Any) -> torch.Tensor:
        return F.logsigmoid(floating(x))

    def celu(x: Any, alpha: float = 1.0) -> torch.Tensor:
        return F.celu(floating(x), alpha=alpha)

    def glu(x: Any, axis: int = -1) -> torch.Tensor:
        return F.glu(floating(x), dim=axis)

    def tanh_shrink(x: Any) -> torch.Tensor:
        return F.tanhshrink(floating(x))

    def hard_tanh(x: Any) -> torch.Tensor:
        return torch.clamp(tensor(x), -1, 1)

    def soft_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
        x = floating(x)
        zero = torch.zeros_like(x)
        # >= and <= give the same values as > and <; at threshold 0 they give x's slope of 1.
        return torch.where(
            x >= threshold, x - threshold, torch.where(x <= -threshold, x + threshold, zero)
        )

    def hard_shrink(x: Any, threshold: float = 0.5) -> torch.Tensor:
        x = floating(x)
        if isinstance(threshold, (int, float)) and threshold <= 0:
            return x.clone()  # nothing is shrunk: the identity, with its slope of 1 at 0
        return torch.where(torch.abs(x) > threshold, x, torch.zeros_like(x))

    def squareplus(x: Any, b: float = 4) -> torch.Tensor:
        x = floating(x)
        return 0.5 * (x + torch.sqrt(x * x + b))

    def sparse_plus(x: Any) -> torch.Tensor:
        x = floating(x)
        middle = 0.25 * torch.square(x + 1.0)
        return torch.where(x <= -1.0, torch.zeros_like(x), torch.where(x >= 1.0, x, middle))

    def softmax(x: Any, axis: Any = -1) -> torch.Tensor:
        x = floating(x)
        if isinstance(axis, int):
            return torch.softmax(x, dim=axis)
        return torch.exp(x - torch.logsumexp(x, dim=_axes(axis, x.ndim), keepdim=True))

    def log_softmax(x: Any, axis: Any = -1) -> torch.Tensor:
        x = floating(x)
        if isinstance(axis, int):
            return torch.log_softmax(x, dim=axis)
        return x - torch.logsumexp(x, dim=_axes(axis, x.ndim), keepdim=True)

    # --- encodings --------------------------------------------------------------------------

    def _encode(x: torch.Tensor, num_classes: int, axis: int) -> torch.Tensor:
        if axis != -1 and not 0 <= axis < x.ndim:
            raise ValueError(f"one_hot: axis must be -1 or in [0, {x.ndim}), got {axis}.")
        encoded = x.unsqueeze(-1) == torch.arange(num_classes, device=x.device)
        return encoded if axis == -1 else torch.movedim(encoded, -1, axis)

    def one_hot(
        x: Any, num_classes: int, axis: int = -1, dtype: str | None = None, sparse: bool = False
    ) -> torch.Tensor:
        if sparse:
            raise ValueError("one_hot: katman has no sparse tensors; call it with sparse=False.")
        encoded = _encode(tensor(x).to(torch.int64), num_classes, axis)
        return encoded.to(TORCH_DTYPES[standardize_dtype(dtype)])

    def multi_hot(
        inputs: Any,
        num_classes: int | None = None,
        axis: int = -1,
        dtype: str | None = None,
        sparse: bool = False,
        **kwargs: Any,
    ) -> torch.Tensor:
        if num_classes is None:
            num_classes = kwargs.pop("num_tokens", None)
        if num_classes is None:
            raise ValueError("multi_hot: the argument `num_classes` must be given.")
        if kwargs:
            raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}.")
        if sparse:
            raise ValueError("multi_hot: katman has no sparse tensors; call it with sparse=False.")
        x = tensor(inputs).to(torch.int64)
        encoded = _encode(x, num_classes, axis)
        reduced = torch.any(encoded, dim=1 if x.ndim > 1 else 0)
        return reduced.to(TORCH_DTYPES[standardize_dtype(dtype)])

    # --- losses -----------------------------------------------------------------------------

    def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> torch.Tensor:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape:
            raise ValueError(
                f"binary_crossentropy: target and output shapes differ: {tuple(target.shape)} "
                f"vs {tuple(output.shape)}."
            )
        if from_logits:
            return -target * F.logsigmoid(output) - (1.0 - target) * F.logsigmoid(-output)
        eps = config.epsilon()
        output = torch.clamp(output, eps, 1.0 - eps)
        return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))

    def _log_probs(output: torch.Tensor, from_logits: bool, axis: int) -> torch.Tensor:
        if from_logits:
            return torch.log_softmax(output, dim=axis)
        eps = config.epsilon()
        output = output / torch.sum(output, dim=axis, keepdim=True)
        return torch.log(torch.clamp(output, eps, 1.0 - eps))

    def categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> torch.Tensor:
        output = floating(output)
        target = like(target, output)
        if target.shape != output.shape or output.ndim < 1:
            raise ValueError(
                "categorical_crossentropy: target and output need the same shape, of rank "
                f">= 1; got {tuple(target.shape)} and {tuple(output.shape)}."
            )
        return -torch.sum(target * _log_probs(output, from_logits, axis), dim=axis)

    def sparse_categorical_crossentropy(
        target: Any, output: Any, from_logits: bool = False, axis: int = -1
    ) -> torch.Tensor:
        output = floating(output)
        target = tensor(target).to(torch.int64)
        if output.ndim < 1:
            raise ValueError("sparse_categorical_crossentropy: output has rank 0.")
        axis = axis % output.ndim
        if target.ndim == output.ndim and target.shape[-1] == 1:
            target = target.squeeze(-1)
        expected = output.shape[:axis] + output.shape[axis + 1 :]
        if target.shape != expected:
            raise ValueError(
                "sparse_categorical_crossentropy: target must have output's shape without the "
                f"class axis; got {tuple(target.shape)} and {tuple(output.shape)}."
            )
        # nll_loss picks each label's negated log-probability in one op (cheaper than a
        # one-hot product, forward and backward). A label outside the classes scores 0, as
        # its all-zero one-hot row would: it is clamped for the pick and its loss filled.
        index = torch.clamp(target, 0, max(output.shape[axis] - 1, 0))
        log_probs = _log_probs(output, from_logits, axis)
        if output.ndim > 1 and axis != 1:
            log_probs = torch.movedim(log_probs, axis, 1)  # nll_loss takes classes on axis 1
        picked = F.nll_loss(log_probs, index, reduction="none")
        return picked.masked_fill(index != target, 0.0)

    # --- normalization ----------------------------------------------------------------------

    def moments(
        x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        del synchronized
        x = floating(x)
        dtype = x.dtype
        if dtype in (torch.float16, torch.bfloat16):
            x = x.to(torch.float32)  # statistics need more range than half precision has
        dims = _axes(axes, x.ndim)
        if not dims:
            mean, variance = x, torch.zeros_like(x)
        else:
            mean = torch.mean(x, dim=dims, keepdim=True)
            variance = torch.mean(torch.square(x - mean), dim=dims, keepdim=keepdims)
            if not keepdims:
                mean = torch.squeeze(mean, dim=dims)
        if dtype != x.dtype:
            top = torch.finfo(dtype).max
            mean = torch.clamp(mean, -top, top).to(dtype)
            variance = torch.clamp(variance, -top, top).to(dtype)
        return mean, variance

    def batch_normalization(
        x: Any,
        mean: Any,
        variance: Any,
        axis: int,
        offset: Any = None,
        scale: Any = None,
        epsilon: float = 1e-3,
    ) -> torch.Tensor:
        x = floating(x)
        stats = [like(v, x) for v in (mean, variance)]
        weights = [None if v is None else like(v, x) for v in (scale, offset)]
        channels = x.shape[axis] if x.ndim >= 2 else -1
        given = [*stats, *(w for w in weights if w is not None)]
        if all(v.shape == (channels,) for v in given) and not (
            torch.is_grad_enabled() and (stats[0].requires_grad or stats[1].requires_grad)
        ):
            # Fixed statistics (inference, a frozen layer): torch's batch norm in one call
            # instead of about ten element-wise ops. Its gradient reaches x, scale and offset
            # but not the statistics, hence the general form below when they need one.
            out = F.batch_norm(
                torch.movedim(x, axis, 1), *stats, *weights, training=False, eps=epsilon
            )
            return torch.movedim(out, 1, axis)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]

        def vector(v: Any) -> torch.Tensor:
            return torch.reshape(like(v, x), shape)

        inv = torch.rsqrt(vector(variance) + epsilon)
        if scale is not None:
            inv = inv * vector(scale)
        shift = -vector(mean) * inv
        if offset is not None:
            shift = shift + vector(offset)
        return x * inv + shift

    def normalize(
        x: Any, axis: Any = -1, order: int = 2, epsilon: float | None = None
    ) -> torch.Tensor:
        if not isinstance(order, int) or isinstance(order, bool) or order < 1:
            raise ValueError(f"normalize: order must be an int >= 1, got {order!r}.")
        x = floating(x)
        if x.ndim == 0:
            x = x.unsqueeze(0)
        eps = config.epsilon() if epsilon is None else epsilon
        dims = _axes(axis, x.ndim)
        if order == 2:
            inv = torch.rsqrt(torch.sum(torch.square(x), dim=dims, keepdim=True))
            return x * torch.clamp(inv, max=1.0 / eps)
        if len(dims) == 1:
            norm = torch.sum(torch.abs(x) ** order, dim=dims, keepdim=True) ** (1.0 / order)
        elif len(dims) == 2 and order == 1:
            column = torch.sum(torch.abs(x), dim=axis[0] % x.ndim, keepdim=True)
            norm = torch.amax(column, dim=axis[1] % x.ndim, keepdim=True)
        else:
            raise ValueError(f"normalize: order {order} over axes {axis!r} is not a norm.")
        return x / torch.clamp(norm, min=eps)

    # --- convolutions -----------------------------------------------------------------------

    def _first(x: torch.Tensor, fmt: str) -> torch.Tensor:
        return torch.movedim(x, -1, 1) if fmt == "channels_last" else x

    def _last(x: torch.Tensor, fmt: str) -> torch.Tensor:
        return torch.movedim(x, 1, -1) if fmt == "channels_last" else x

    def _dense(x: torch.Tensor) -> torch.Tensor:
        """``x`` in memory torch's kernels read directly. A channels-last tensor seen through
        ``_first`` is already dense in torch's ``channels_last`` layout, which convolutions
        and pooling take as is (and return in kind), so it is not copied."""
        layout = _CHANNELS_LAST.get(x.ndim)
        if layout is not None and x.is_contiguous(memory_format=layout):
            return x
        return x.contiguous()

    def _conv_first(
        x: torch.Tensor,
        kernel: torch.Tensor,
        strides: Any,
        padding: str,
        dilation: Any,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Grouped convolution of channels-first ``x`` with a Keras ``(*k, C/g, O)`` kernel,
        plus ``bias`` per output channel if given."""
        n = x.ndim - 2
        if n not in _CONV:
            raise ValueError(f"conv: 1 to 3 spatial dimensions are supported, got {n}.")
        strides, dilation = _tuple(strides, n), _tuple(dilation, n)
        size = kernel.shape[:n]
        per_group = kernel.shape[-2]
        if per_group == 0 or x.shape[1] % per_group:
            raise ValueError(
                f"conv: the input has {x.shape[1]} channels, which the kernel's {per_group} "
                "input channels do not divide."
            )
        symmetric: tuple[int, ...] = (0,) * n
        if padding == "same":
            pads = [
                _same_pads(x.shape[i + 2], (size[i] - 1) * dilation[i] + 1, strides[i])
                for i in range(n)
            ]
            if all(before == after for before, after in pads):
                # The convolution pads as it reads: no padded copy of the input (and of its
                # gradient), and a channels-last input keeps its layout.
                symmetric = tuple(before for before, _ in pads)
            else:
                x = F.pad(x, _torch_pads(pads))
        weight = _dense(kernel.permute(n + 1, n, *range(n)))
        return _CONV[n](
            _dense(x),
            weight,
            bias,
            stride=strides,
            padding=symmetric,
            dilation=dilation,
            groups=x.shape[1] // per_group,
        )

    def conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> torch.Tensor:
        return biased_conv(inputs, kernel, None, strides, padding, data_format, dilation_rate)

    def biased_conv(
        inputs: Any,
        kernel: Any,
        bias: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> torch.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel, bias = floats(inputs, kernel, bias)
        if bias is not None and bias.shape != (kernel.shape[-1],):
            raise ValueError(
                f"biased_conv: the bias must have shape ({kernel.shape[-1]},), one value per "
                f"output channel; got {tuple(bias.shape)}."
            )
        out = _conv_first(_first(x, fmt), kernel, strides, padding, dilation_rate, bias)
        return _last(out, fmt)

    def _depthwise_first(
        x: torch.Tensor, kernel: torch.Tensor, strides: Any, padding: str, dilation: Any
    ) -> torch.Tensor:
        if kernel.shape[-2] != x.shape[1]:
            raise ValueError(
                f"depthwise_conv: the kernel expects {kernel.shape[-2]} channels, the input "
                f"has {x.shape[1]}."
            )
        # The grouped kernel (*k, 1, C*M) with output channel c*M + m, built with its output
        # channels outermost: at most one copy, and _conv_first's permutation of it is dense.
        n = kernel.ndim - 2
        channels, multiplier = kernel.shape[-2:]
        window = kernel.shape[:n]
        outermost = kernel.permute(n, n + 1, *range(n)).reshape(channels * multiplier, *window)
        grouped = outermost.permute(*range(1, n + 1), 0).unsqueeze(n)
        return _conv_first(x, grouped, strides, padding, dilation)

    def depthwise_conv(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> torch.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        return _last(_depthwise_first(_first(x, fmt), kernel, strides, padding, dilation_rate), fmt)

    def separable_conv(
        inputs: Any,
        depthwise_kernel: Any,
        pointwise_kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> torch.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, depthwise, pointwise = floats(inputs, depthwise_kernel, pointwise_kernel)
        out = _depthwise_first(_first(x, fmt), depthwise, strides, padding, dilation_rate)
        return _last(_conv_first(out, pointwise, 1, "valid", dilation_rate), fmt)

    def conv_transpose(
        inputs: Any,
        kernel: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
    ) -> torch.Tensor:
        fmt, padding = _image_format(data_format), _padding(padding)
        x, kernel = floats(inputs, kernel)
        x = _first(x, fmt)
        n = x.ndim - 2
        if n not in _CONV_TRANSPOSE:
            raise ValueError(f"conv_transpose: 1 to 3 spatial dimensions, got {n}.")
        if kernel.shape[-1] != x.shape[1]:
            raise ValueError(
                f"conv_transpose: the kernel expects {kernel.shape[-1]} input channels, the "
                f"input has {x.shape[1]}."
            )
        strides, dilation = _tuple(strides, n), _tuple(dilation_rate, n)
        extra = [None] * n if output_padding is None else _tuple(output_padding, n)
        weight = _dense(kernel.permute(n + 1, n, *range(n)))  # (in, out, *k)
        full = _CONV_TRANSPOSE[n](x.contiguous(), weight, stride=strides, dilation=dilation)
        for i in range(n):
            length, start = _conv_transpose_geometry(
                x.shape[i + 2], kernel.shape[i], strides[i], padding, extra[i], dilation[i]
            )
            full = full.narrow(i + 2, start, min(length, full.shape[i + 2] - start))
            if full.shape[i + 2] < length:
                pads = [(0, 0)] * n
                pads[i] = (0, length - full.shape[i + 2])
                full = F.pad(full, _torch_pads(pads))
        return _last(full, fmt)

    # --- pooling ----------------------------------------------------------------------------

    def _pool_setup(
        inputs: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None
    ) -> tuple[torch.Tensor, str, str, tuple[int, ...], tuple[int, ...], list[int]]:
        fmt, padding = _image_format(data_format), _padding(padding)
        x = _first(tensor(inputs), fmt)
        n = x.ndim - 2
        if n not in _MAX_POOL:
            raise ValueError(f"pooling: 1 to 3 spatial dimensions are supported, got {n}.")
        size = _tuple(pool_size, n)
        step = size if strides is None else _tuple(strides, n)
        pads = (
            _torch_pads([_same_pads(x.shape[i + 2], size[i], step[i]) for i in range(n)])
            if padding == "same"
            else []
        )
        return x, fmt, padding, size, step, pads

    def max_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> torch.Tensor:
        x, fmt, padding, size, step, pads = _pool_setup(
            inputs, pool_size, strides, padding, data_format
        )
        if pads:
            x = F.pad(x, pads, value=-math.inf)
        return _last(_MAX_POOL[x.ndim - 2](x, size, step), fmt)

    def average_pool(
        inputs: Any,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> torch.Tensor:
        x, fmt, padding, size, step, pads = _pool_setup(
            inputs, pool_size, strides, padding, data_format
        )
        x = floating(x)
        pool = _AVG_POOL[x.ndim - 2]
        if not pads:
            return _last(pool(x, size, step), fmt)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        total, count = pool(F.pad(x, pads), size, step), pool(F.pad(ones, pads), size, step)
        return _last(total / count, fmt)

    # --- attention --------------------------------------------------------------------------

    def dot_product_attention(
        query: Any,
        key: Any,
        value: Any,
        bias: Any = None,
        mask: Any = None,
        scale: float | None = None,
        is_causal: bool = False,
        flash_attention: bool | None = None,
        attn_logits_soft_cap: float | None = None,
    ) -> torch.Tensor:
        del flash_attention
        q, k, v = floats(query, key, value)
        if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
            raise ValueError(
                "dot_product_attention takes 4D (batch, length, heads, head_dim) inputs; got "
                f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}."
            )
        b, t, heads, h = q.shape
        s, kv_heads = k.shape[1], k.shape[2]
        if heads % kv_heads:
            raise ValueError(f"dot_product_attention: {heads} heads for {kv_heads} key heads.")
        groups = heads // kv_heads
        scale = 1.0 / math.sqrt(h) if scale is None else scale
        logits = torch.einsum("btkgh,bskh->bkgts", q.reshape(b, t, kv_heads, groups, h), k)
        logits = logits.reshape(b, heads, t, s) * scale
        if bias is not None:
            logits = logits + like(bias, logits)
        if attn_logits_soft_cap is not None:
            logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
        keep = None
        if mask is not None:
            keep = tensor(mask).to(torch.bool)
        if is_causal:
            causal = torch.tril(torch.ones((t, s), dtype=torch.bool, device=logits.device))
            keep = causal if keep is None else keep & causal
        if keep is not None:
            floor = torch.full_like(logits, -0.7 * torch.finfo(logits.dtype).max)
            logits = torch.where(keep, logits, floor)
        probs = torch.softmax(logits, dim=-1).reshape(b, kv_heads, groups, t, s)
        return torch.einsum("bkgts,bskh->btkgh", probs, v).reshape(b, t, heads, h)

    return {
        "relu": relu,
        "relu6": relu6,
        "sigmoid": sigmoid,
        "softplus": softplus,
        "softsign": softsign,
        "silu": silu,
        "gelu": gelu,
        "elu": elu,
        "selu": selu,
        "leaky_relu": leaky_relu,
        "hard_sigmoid": hard_sigmoid,
        "hard_silu": hard_silu,
        "log_sigmoid": log_sigmoid,
        "celu": celu,
        "glu": glu,
        "tanh_shrink": tanh_shrink,
        "hard_tanh": hard_tanh,
        "soft_shrink": soft_shrink,
        "hard_shrink": hard_shrink,
        "squareplus": squareplus,
        "sparse_plus": sparse_plus,
        "softmax": softmax,
        "log_softmax": log_softmax,
        "one_hot": one_hot,
        "multi_hot": multi_hot,
        "binary_crossentropy": binary_crossentropy,
        "categorical_crossentropy": categorical_crossentropy,
        "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
        "moments": moments,
        "batch_normalization": batch_normalization,
        "normalize": normalize,
        "conv": conv,
        "biased_conv": biased_conv,
        "depthwise_conv": depthwise_conv,
        "separable_conv": separable_conv,
        "conv_transpose": conv_transpose,
        "max_pool": max_pool,
        "average_pool": average_pool,
        "dot_product_attention": dot_product_attention,
    }
