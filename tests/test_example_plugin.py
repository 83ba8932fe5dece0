"""examples/plugins/katman-example, really built and installed, through the whole path:
discovered from its entry point, listed by ``katman plugins``, reachable in the namespaces."""

from __future__ import annotations

import json
import os

import numpy as np
from conftest import clean_env, run_katman, run_python
from distributions import install_distribution


def plugin_env(site, home, backend, **extra):
    paths = [str(site)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return clean_env(PYTHONPATH=os.pathsep.join(paths), KATMAN_HOME=str(home),
                     KATMAN_BACKEND=backend, **extra)  # fmt: skip


def test_listed_by_katman_plugins_with_its_distribution(example_plugin_path, home, active_backend):
    env = plugin_env(example_plugin_path, home, active_backend)
    report = json.loads(run_katman("plugins", "--json", env=env).stdout)
    [example] = [p for p in report["plugins"] if p["name"] == "example"]
    assert example["source"] == "entry point"
    assert (example["distribution"], example["version"]) == ("katman-example-plugin", "0.1.0")
    assert example["registered"] == {"loss": ["pseudo_huber"], "regularizer": ["CenteredL2"]}
    text = run_katman("plugins", env=env).stdout
    assert "example  [katman-example-plugin 0.1.0]  katman_example.plugin" in text
    info = run_katman("info", env=env).stdout
    assert "1 third-party" in info


def test_objects_work_through_the_public_namespaces(example_plugin_path, home, active_backend):
    code = """
import json, sys, numpy as np, katman
loss = katman.losses.get("pseudo_huber")
print("pseudo_huber" in dir(katman.losses), loss is katman.losses.pseudo_huber)
y_true = np.array([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]], dtype="float32")
y_pred = np.array([[0.5, 1.0, 4.0], [0.0, 3.0, 1.5]], dtype="float32")
print(json.dumps(katman.ops.convert_to_numpy(loss(y_true, y_pred)).tolist()))
reg = katman.regularizers.get({"class_name": "CenteredL2",
                               "registered_name": "example>CenteredL2",
                               "config": {"factor": 0.5, "center": 1.0}})
print(json.dumps(katman.regularizers.serialize(reg)))
print(float(katman.ops.convert_to_numpy(reg(np.array([1.0, 2.0, 4.0], dtype="float32")))))
"""
    result = run_python(code, plugin_env(example_plugin_path, home, active_backend))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "True True"
    d = np.array([[0.5, 0.0, 2.0], [-1.0, 2.0, 0.5]])
    expected = (np.sqrt(1 + d**2) - 1).mean(axis=-1)
    np.testing.assert_allclose(json.loads(lines[1]), expected, rtol=1e-6)
    assert json.loads(lines[2]) == {"class_name": "CenteredL2",
                                    "registered_name": "example>CenteredL2",
                                    "config": {"factor": 0.5, "center": 1.0}}  # fmt: skip
    assert float(lines[3]) == 0.5 * (0 + 1 + 9)


def test_broken_and_conflicting_plugins_next_to_it(
    example_plugin_path, tmp_path, home, active_backend
):
    site = tmp_path / "site"
    install_distribution(
        site,
        "kt-broken",
        entry_points={"broken": "kt_broken_plugin"},
        modules={"kt_broken_plugin.py": "import kt_missing_dependency\n"},
    )
    env = plugin_env(site, home, active_backend)
    env["PYTHONPATH"] = os.pathsep.join([str(example_plugin_path), env["PYTHONPATH"]])
    report = json.loads(run_katman("plugins", "--json", env=env).stdout)
    assert "example" in {p["name"] for p in report["plugins"]}
    [failed] = report["failed"]
    assert failed["name"] == "broken" and failed["distribution"] == "kt-broken"
    assert failed["entry_point"] == "broken = kt_broken_plugin"
    assert "No module named 'kt_missing_dependency'" in failed["cause"]
    text = run_katman("plugins", env=env).stdout
    assert "1 plugins failed to load" in text and "kt_missing_dependency" in text
    strict = run_katman("plugins", env={**env, "KATMAN_STRICT_PLUGINS": "1"})
    assert (
        strict.returncode == 1 and "'broken'" in strict.stderr and "Traceback" not in strict.stderr
    )
    blocked = run_katman("plugins", "--json", env={**env, "KATMAN_BLOCK_PLUGINS": "broken,example"})
    assert json.loads(blocked.stdout)["failed"] == []
    autoload_off = run_katman(
        "plugins", "--json", env={**env, "KATMAN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    )
    names = {p["name"] for p in json.loads(autoload_off.stdout)["plugins"]}
    assert "example" not in names and "ops.math" in names

    rival = tmp_path / "rival"
    install_distribution(rival, "kt-rival", entry_points={"rival": "kt_rival_plugin"}, modules={
        "kt_rival_plugin.py": """
            import katman

            @katman.hookimpl
            def katman_register(registry):
                registry.add("loss", "pseudo_huber", "kt_rival_plugin:katman_register")
        """})  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join([str(rival), env["PYTHONPATH"]])
    conflict = run_katman("plugins", env=env)
    assert conflict.returncode == 1
    assert "'example'" in conflict.stderr and "'rival'" in conflict.stderr
    assert "pseudo_huber" in conflict.stderr and "Traceback" not in conflict.stderr
