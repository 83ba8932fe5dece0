"""``katman conformance`` and the opt-in pytest plugin, run for real in subprocesses: on the
active backend, and on a third-party NumPy backend with declared deviations."""

from __future__ import annotations

import os
import sys
import textwrap

from conftest import clean_env, run, run_katman
from distributions import install_distribution
from test_third_party_backend import NUMPY_BACKEND

PLUGIN = """
    import katman

    @katman.hookimpl
    def katman_register(registry):
        registry.add_backend("numpy", "kt_numpy_conf.backend:NumpyBackend", requires=("numpy",),
                             install="pip install kt-numpy", deviations="kt_numpy_conf:DEVIATIONS")
"""

DEVIATIONS = """
DEVIATIONS = {
    "add:gradients": "NumPy has no automatic differentiation",
    "add:values": "declared but wrong: add's values pass, so this entry is stale",
}
"""

EXTRA_KERNELS = """

def _extend(original):
    def __init__(self):
        original(self)
        self._kernels["multiply"] = self.binary_kernel(np.multiply)
        self._kernels["sum"] = lambda x, axis=None, keepdims=False: np.sum(
            self.convert_to_tensor(x), axis=axis, keepdims=keepdims)
    return __init__


NumpyBackend.__init__ = _extend(NumpyBackend.__init__)
"""


def numpy_backend_env(tmp_path, home):
    site = install_distribution(
        tmp_path / "site", "kt-numpy-conf", entry_points={"numpy-conf": "kt_numpy_conf.plugin"},
        modules={"kt_numpy_conf/__init__.py": DEVIATIONS, "kt_numpy_conf/plugin.py": PLUGIN,
                 "kt_numpy_conf/backend.py": textwrap.dedent(NUMPY_BACKEND) + EXTRA_KERNELS},
    )  # fmt: skip
    pythonpath = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    return clean_env(KATMAN_HOME=str(home), PYTHONPATH=pythonpath)


def test_third_party_backend_report_counts_passes_unsupported_deviations_and_stale(tmp_path, home):
    env = numpy_backend_env(tmp_path, home)
    result = run_katman("conformance", "--backend", "numpy", "-k", "math/add or math/sqrt", env=env)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr  # the stale deviation fails the run
    assert "katman conformance summary" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()
             if line.startswith("    ") and len(line.split()) == 3}  # fmt: skip
    assert lines["add"] == ["FAIL", "deviation"]
    assert "stale deviation: add:values is declared" in out
    assert lines["sqrt"] == ["unsupported", "unsupported"]


def test_unknown_backend_is_a_one_line_error(home):
    result = run_katman("conformance", "--backend", "nope", env=clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 1
    assert result.stderr.startswith("katman: error: Unknown backend 'nope'")
    assert "Traceback" not in result.stderr


def test_active_backend_passes_a_family(active_backend, home):
    env = clean_env(KATMAN_HOME=str(home))
    result = run_katman("conformance", "--backend", active_backend, "-k", "math/", env=env)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "math" in result.stdout and " FAIL" not in result.stdout


def test_opt_in_pytest_plugin_runs_the_suite_only_when_asked(active_backend, home, tmp_path):
    (tmp_path / "test_mine.py").write_text("def test_mine():\n    assert True\n")
    env = clean_env(KATMAN_HOME=str(home), KATMAN_BACKEND=active_backend)
    plain = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)], env
    )
    assert plain.returncode == 0 and "1 passed" in plain.stdout
    assert "katman conformance summary" not in plain.stdout
    opted = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "-p", "katman.conformance.plugin", "-k", "math/square or test_mine",
                 str(tmp_path)], env)  # fmt: skip
    assert opted.returncode == 0, opted.stdout[-3000:]
    assert "katman conformance summary" in opted.stdout and "square" in opted.stdout
    assert "3 passed" in opted.stdout  # test_mine, square values, square gradients
