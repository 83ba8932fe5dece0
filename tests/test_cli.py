"""The katman command: info, plugins, and one-line errors with non-zero exit codes."""

from __future__ import annotations

import json

from conftest import clean_env, run_katman

import katman


def test_info_reports_versions_backend_reason_and_plugins(active_backend, home):
    result = run_katman("info", env=clean_env(KATMAN_BACKEND=active_backend, KATMAN_HOME=str(home)))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"katman {katman.__version__} (Python ")
    assert (
        f"active backend: {active_backend} (chosen by the KATMAN_BACKEND environment variable)"
        in out
    )
    for name in ("torch", "jax", "tensorflow"):
        assert f"  {name} " in out
    assert "plugins: " in out and "built-in" in out
    assert "installed" in out


def test_info_explains_a_config_file_choice(home):
    (home / "katman.json").write_text(json.dumps({"backend": "jax"}))
    result = run_katman("info", env=clean_env(KATMAN_HOME=str(home)))
    assert (
        f"active backend: jax (chosen by the 'backend' key of {home / 'katman.json'})"
        in result.stdout
    )


def test_unknown_backend_is_one_line_and_exit_code_1(home):
    result = run_katman("info", env=clean_env(KATMAN_BACKEND="nope", KATMAN_HOME=str(home)))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    [line] = [x for x in result.stdout.splitlines() if x.startswith("active backend")]
    for name in ("torch", "jax", "tensorflow"):
        assert name in line


def test_broken_config_file_is_one_line_error(home):
    (home / "katman.json").write_text("{oops")
    result = run_katman("info", env=clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("katman: error: ")
    assert "katman.json" in result.stderr and "Traceback" not in result.stderr


def test_plugins_lists_builtins_and_json_is_parseable(home):
    env = clean_env(KATMAN_HOME=str(home))
    text = run_katman("plugins", env=env)
    assert text.returncode == 0, text.stderr
    assert "backends.torch  [built-in]  katman.backends.torch.plugin" in text.stdout
    report = json.loads(run_katman("plugins", "--json", env=env).stdout)
    by_name = {plugin["name"]: plugin for plugin in report["plugins"]}
    assert by_name["ops.math"]["registered"]["op"][:2] == ["abs", "add"]
    assert by_name["backends.jax"]["registered"] == {"backend": ["jax"]}
    assert report["failed"] == []


def test_usage_errors_exit_2_without_traceback(home):
    result = run_katman("frobnicate", env=clean_env(KATMAN_HOME=str(home)))
    assert result.returncode == 2 and "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_version_flag(home):
    result = run_katman("--version", env=clean_env(KATMAN_HOME=str(home)))
    assert result.stdout.strip() == f"katman {katman.__version__}"


def test_closed_pipe_is_not_an_error(home):
    import subprocess
    import sys

    reader = subprocess.Popen(
        f"{sys.executable} -m katman plugins | head -n 1", shell=True, env=clean_env(KATMAN_HOME=str(home)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = reader.communicate(timeout=120)
    assert out.strip().endswith("plugins loaded") and "Traceback" not in err
