"""The ops that exist so far, against their NumPy references on the active backend, and the
Op dispatch rules (own kernel, backend kernel, fallback, clear error)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import katman
from katman import ops
from katman.errors import OpNotSupportedError
from katman.plugins.ops.math import OPS

UNARY = {"negative", "abs", "square", "sqrt", "exp", "log"}
BINARY = {"add", "subtract", "multiply", "divide", "divide_no_nan", "maximum", "minimum"}
REDUCTIONS = {"sum", "mean"}
DOMAIN = {"sqrt": (0.0, 100.0), "log": (0.0009765625, 100.0), "exp": (-20.0, 20.0)}
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def arrays(dtype, shape, low=-100.0, high=100.0):
    return hnp.arrays(
        dtype, shape, elements=st.floats(low, high, width=np.dtype(dtype).itemsize * 8)
    )


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data(), dtype=st.sampled_from(["float32", "float64"]))
def test_unary_ops_match_numpy(name, data, dtype):
    x = data.draw(
        arrays(dtype, hnp.array_shapes(max_dims=3, max_side=4), *DOMAIN.get(name, (-100, 100)))
    )
    result = ops.convert_to_numpy(getattr(ops, name)(x))
    expected = getattr(katman.ops, name).reference(x)
    assert result.dtype == expected.dtype and result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data(), dtype=st.sampled_from(["float32", "float64"]))
def test_binary_ops_broadcast_like_numpy(name, data, dtype):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    x = data.draw(arrays(dtype, shapes.input_shapes[0]))
    y = data.draw(arrays(dtype, shapes.input_shapes[1], 0.5, 100.0))
    result = ops.convert_to_numpy(getattr(ops, name)(x, y))
    expected = getattr(katman.ops, name).reference(x, y)
    assert result.shape == shapes.result_shape
    np.testing.assert_allclose(result, expected, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype])


def test_divide_no_nan_is_zero_where_the_divisor_is_zero_with_finite_gradients():
    x = np.array([3.0, -2.0, 0.0, 5.0], "float32")
    y = np.array([0.0, 4.0, 0.0, -0.5], "float32")
    result = ops.convert_to_numpy(ops.divide_no_nan(x, y))
    np.testing.assert_array_equal(result, [0.0, -0.5, 0.0, -10.0])
    assert result.dtype == np.float32
    # Integer inputs divide as floats, as divide does.
    assert ops.convert_to_numpy(ops.divide_no_nan(np.int32(7), np.int32(0))).dtype == "float32"
    backend = katman.backend.get_backend()
    _, (dx, dy) = backend.value_and_grad(lambda a, b: ops.sum(ops.divide_no_nan(a, b)), x, y)
    np.testing.assert_allclose(ops.convert_to_numpy(dx), [0.0, 0.25, 0.0, -2.0])
    np.testing.assert_allclose(ops.convert_to_numpy(dy), [0.0, 0.125, 0.0, -20.0])


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_match_numpy(name, data):
    x = data.draw(arrays("float64", hnp.array_shapes(max_dims=3, max_side=4)))
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdims = data.draw(st.booleans())
    result = ops.convert_to_numpy(getattr(ops, name)(x, axis=axis, keepdims=keepdims))
    expected = getattr(katman.ops, name).reference(x, axis=axis, keepdims=keepdims)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-9)


def test_every_builtin_op_is_covered():
    assert {op.name for op in OPS} == UNARY | BINARY | REDUCTIONS


@pytest.mark.parametrize(
    ("value", "dtype"),
    [(1.5, "float32"), (2, "int32"), (True, "bool"), ([[1, 2]], "int32"),
     (np.float64(1.0), "float64"), (np.arange(3, dtype="int8"), "int8")],
)  # fmt: skip
def test_convert_to_tensor_follows_keras_default_dtypes(value, dtype):
    backend = katman.backend.get_backend()
    tensor = ops.convert_to_tensor(value)
    assert ops.is_tensor(tensor) and backend.dtype_of(tensor) == dtype
    np.testing.assert_array_equal(ops.convert_to_numpy(tensor), np.asarray(value))


@pytest.mark.parametrize("dtype", katman.backend.DTYPES)
def test_every_dtype_round_trips(dtype):
    tensor = ops.convert_to_tensor([0, 1, 1], dtype=dtype)
    assert katman.backend.get_backend().dtype_of(tensor) == dtype
    assert ops.convert_to_numpy(tensor).tolist() == [0, 1, 1]


def test_python_scalars_are_weak_and_mixed_dtypes_promote():
    dtype_of = katman.backend.get_backend().dtype_of
    half = ops.convert_to_tensor(np.ones(2, dtype="float16"))
    assert dtype_of(ops.multiply(2, half)) == "float16"
    assert dtype_of(ops.add(1.5, ops.convert_to_tensor([1, 2]))) == "float32"
    assert dtype_of(ops.add(np.ones(2, "int8"), np.ones(2, "float16"))) == "float16"
    bfloat = ops.convert_to_tensor([1.0], dtype="bfloat16")
    assert dtype_of(ops.add(np.ones(2, "float16"), bfloat)) == "float32"


def test_bad_input_is_a_clear_error():
    with pytest.raises(TypeError, match=r"convert_to_tensor: expected numbers.*str"):
        ops.convert_to_tensor("abc")
    with pytest.raises(TypeError, match="Unsupported dtype 'complex64'"):
        ops.convert_to_tensor([1.0], dtype="complex64")


def test_op_dispatch_own_kernel_then_fallback_then_error(active_backend):
    own = ops.Op("kt_own", kernels={active_backend: lambda x: "own kernel"}, fallback=lambda x: 0)
    assert own(1) == "own kernel"
    lazy = ops.Op("kt_lazy", kernels={active_backend: "operator:neg"})
    assert lazy(3) == -3
    composite = ops.Op("kt_double", fallback=lambda x: ops.add(x, x))
    np.testing.assert_array_equal(ops.convert_to_numpy(composite(np.arange(3.0))), [0.0, 2.0, 4.0])
    backend_kernel = ops.Op("add")
    assert backend_kernel.kernel_for(katman.backend.get_backend()) is not None
    orphan = ops.Op("kt_orphan", kernels={"some_other_backend": lambda x: x})
    with pytest.raises(
        OpNotSupportedError, match=rf"'kt_orphan'.*'{active_backend}'.*some_other_backend"
    ):
        orphan(1)


def test_plugin_op_with_only_a_fallback_is_reachable_as_katman_ops_name():
    @katman.hookimpl
    def katman_register(registry):
        registry.add(
            "op",
            "kt_cube",
            ops.Op(
                "kt_cube",
                fallback=lambda x: ops.multiply(ops.square(x), x),
                reference=lambda x: x**3,
            ),
        )

    import types

    katman.registry.register_plugin(
        types.SimpleNamespace(katman_register=katman_register), "kt-cube"
    )
    try:
        x = np.array([1.0, -2.0, 3.0])
        np.testing.assert_allclose(ops.convert_to_numpy(ops.kt_cube(x)), ops.kt_cube.reference(x))
        assert "kt_cube" in dir(ops)
    finally:
        katman.registry.get_registry().remove_plugin("kt-cube")


def test_builtin_ops_are_declared_for_type_checkers():
    """core/ops/__init__.py lists every built-in op under TYPE_CHECKING, for IDE completion."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(katman.ops))
    [block] = [
        n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"
    ]
    declared = [node.target.id for node in block.body if isinstance(node, ast.AnnAssign)]
    builtin = sorted(e.name for e in katman.registry.get_registry().entries("op") if e.builtin)
    expected = "".join(f"    {name}: Op\n" for name in builtin)
    assert declared == builtin, f"replace the TYPE_CHECKING block's names with:\n{expected}"
