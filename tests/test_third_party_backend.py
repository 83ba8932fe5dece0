"""A backend from a third-party distribution is selected by KATMAN_BACKEND like a built-in."""

from __future__ import annotations

import os

from conftest import clean_env, run_katman, run_python
from distributions import install_distribution

NUMPY_BACKEND = '''
    """A complete (if small) katman backend on NumPy, as a third party would write it."""
    import contextlib

    import numpy as np

    from katman.backend import Backend, host_array, standardize_dtype


    class NumpyBackend(Backend):
        name = "numpy"
        framework = "numpy"

        def __init__(self):
            self._kernels = {"add": self.binary_kernel(np.add), "mean": self._mean}

        @property
        def framework_version(self):
            return np.__version__

        @property
        def kernels(self):
            return self._kernels

        def is_tensor(self, x):
            return isinstance(x, np.ndarray)

        def convert_to_tensor(self, x, dtype=None):
            if isinstance(x, np.ndarray):
                return x if dtype is None else x.astype(standardize_dtype(dtype))
            array, _ = host_array(x, dtype)
            return array

        def convert_to_numpy(self, x):
            return np.array(x)

        def dtype_of(self, x):
            return x.dtype.name

        def value_and_grad(self, function, *args):
            raise NotImplementedError("the NumPy backend has no automatic differentiation")

        def create_variable(self, value, *, trainable, name):
            return [np.array(value)]

        def read_variable(self, handle):
            return handle[0]

        def assign_variable(self, handle, value):
            handle[0] = np.array(value)

        def variables_value_and_grad(self, function, handles):
            raise NotImplementedError("the NumPy backend has no automatic differentiation")

        def devices(self):
            return ["cpu:0"]

        def device_scope(self, name):
            return contextlib.nullcontext()

        def compile(self, function):
            return function

        def _mean(self, x, axis=None, keepdims=False):
            return np.mean(self.convert_to_tensor(x), axis=axis, keepdims=keepdims)
'''

PLUGIN = """
    import katman

    @katman.hookimpl
    def katman_register(registry):
        registry.add_backend("numpy", "kt_numpy_backend.backend:NumpyBackend",
                             requires=("numpy",), install="pip install kt-numpy-backend")

    @katman.hookimpl
    def katman_backend_loaded(backend):
        print(f"loaded {backend!r}")
"""


def test_third_party_backend_is_selectable_and_runs_ops(tmp_path, home):
    site = install_distribution(
        tmp_path / "site",
        "kt-numpy-backend",
        entry_points={"numpy-backend": "kt_numpy_backend.plugin"},
        modules={
            "kt_numpy_backend/__init__.py": "",
            "kt_numpy_backend/plugin.py": PLUGIN,
            "kt_numpy_backend/backend.py": NUMPY_BACKEND,
        },
    )
    pythonpath = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    env = clean_env(KATMAN_BACKEND="numpy", KATMAN_HOME=str(home), PYTHONPATH=pythonpath)
    code = (
        "import sys, katman\n"
        "print(katman.config.backend())\n"
        "x = katman.ops.add(katman.ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]]), 1)\n"
        "print(katman.ops.mean(x, axis=0).tolist(), x.dtype)\n"
        "print(sorted(m for m in ('torch', 'jax', 'tensorflow') if m in sys.modules))\n"
        "v = katman.Variable([1.0, 2.0]); v.assign_add([1.0, 1.0]); print(v.numpy().tolist())\n"
        "try:\n"
        "    katman.ops.sqrt(x)\n"
        "except katman.errors.OpNotSupportedError as err:\n"
        "    print(err)\n"
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "numpy"
    assert lines[1].startswith("loaded <katman backend 'numpy' (numpy ")
    assert lines[2:5] == ["[3.0, 4.0] float32", "[]", "[2.0, 3.0]"]
    assert "Op 'sqrt' has no kernel for backend 'numpy'" in lines[5]
    info = run_katman("info", env=env)
    assert (
        "active backend: numpy (chosen by the KATMAN_BACKEND environment variable)" in info.stdout
    )
    assert "plugin numpy-backend; install: pip install kt-numpy-backend" in info.stdout
