"""Loading plugins from real entry points: failures, strict mode, autoload, blocking,
validation and conflicts, each through pluggy's own machinery."""

from __future__ import annotations

import itertools
import sys

import pytest
from distributions import install_distribution

from katman.errors import PluginConflictError, PluginLoadError, PluginValidationError
from katman.registry import BUILTIN_PLUGINS, PluginLoadWarning, PluginManager

_counter = itertools.count()

GOOD_PLUGIN = """
    import katman

    def smooth(y_true, y_pred):
        return y_pred

    @katman.hookimpl
    def katman_register(registry):
        registry.add("loss", "{loss}", smooth)
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site-packages-like folder on sys.path; modules imported from it are forgotten after."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("kt_"):
            del sys.modules[name]


def unique(prefix: str) -> str:
    return f"kt_{prefix}_{next(_counter)}"


def add_plugin(site, *, source: str, ep_name: str | None = None, dist: str | None = None) -> str:
    """Install a one-module distribution whose entry point names that module."""
    module = unique("mod")
    ep_name = ep_name or unique("plugin")
    install_distribution(
        site,
        dist or unique("dist").replace("_", "-"),
        entry_points={ep_name: module},
        modules={f"{module}.py": source},
    )
    return ep_name


def test_builtins_load_and_entry_point_plugin_registers(site):
    name = add_plugin(site, source=GOOD_PLUGIN.format(loss="smooth_one"), dist="kt-good")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    manager.load_all()
    assert set(BUILTIN_PLUGINS) <= set(manager.plugin_info)
    info = manager.plugin_info[name]
    assert (info.source, info.distribution, info.version) == ("entry point", "kt-good", "1.0")
    entry = manager.registry.get("loss", "smooth_one")
    assert entry.plugin == name
    assert entry.registered_name == f"{name}>smooth_one"
    assert entry.load()(0, 5) == 5


def test_broken_plugin_is_reported_and_katman_keeps_working(site):
    good = add_plugin(site, source=GOOD_PLUGIN.format(loss="still_here"))
    broken = add_plugin(site, source="import kt_does_not_exist\n", dist="kt-broken")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    with pytest.warns(PluginLoadWarning, match=broken) as warned:
        manager.load_all()
    [failure] = manager.failures
    assert failure.info.name == broken
    assert failure.info.distribution == "kt-broken"
    assert failure.entry_point.startswith(f"{broken} = kt_mod_")
    assert "ModuleNotFoundError" in failure.cause and "kt_does_not_exist" in failure.cause
    assert "kt-broken 1.0" in str(warned[0].message)
    assert good in manager.plugin_info and broken not in manager.plugin_info
    assert manager.registry.find("loss", "still_here") is not None


def test_plugin_whose_register_hook_raises_is_reported_and_leaves_nothing(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_register(registry):
            registry.add("loss", "half_registered", lambda a, b: a)
            raise RuntimeError("database unreachable")
    """
    name = add_plugin(site, source=source)
    manager = PluginManager(strict=False, autoload=True, blocked=())
    with pytest.warns(PluginLoadWarning, match="database unreachable"):
        manager.load_all()
    assert manager.failures[0].info.name == name
    assert manager.registry.find("loss", "half_registered") is None
    assert manager.get_plugin(name) is None


def test_strict_mode_makes_a_broken_plugin_fatal(site):
    broken = add_plugin(site, source="raise ImportError('needs libfoo')\n")
    manager = PluginManager(strict=True, autoload=True, blocked=())
    with pytest.raises(PluginLoadError, match=rf"{broken}.*needs libfoo.*KATMAN_STRICT_PLUGINS"):
        manager.load_all()


def test_strict_mode_from_environment(site, monkeypatch):
    add_plugin(site, source="raise ImportError('nope')\n")
    monkeypatch.setenv("KATMAN_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError):
        PluginManager().load_all()


def test_autoload_off_loads_builtins_only(site, monkeypatch):
    name = add_plugin(site, source=GOOD_PLUGIN.format(loss="never_loaded"))
    monkeypatch.setenv("KATMAN_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = PluginManager()
    manager.load_all()
    assert set(manager.plugin_info) == set(BUILTIN_PLUGINS)
    assert name not in manager.plugin_info
    assert manager.registry.find("loss", "never_loaded") is None


def test_blocked_plugins_are_not_loaded(site, monkeypatch):
    blocked = add_plugin(site, source="raise ImportError('must not be imported')\n")
    kept = add_plugin(site, source=GOOD_PLUGIN.format(loss="kept_loss"))
    monkeypatch.setenv("KATMAN_BLOCK_PLUGINS", f" {blocked} , backends.tensorflow")
    manager = PluginManager()
    manager.load_all()
    assert manager.failures == []
    assert blocked not in manager.plugin_info and kept in manager.plugin_info
    assert "backends.tensorflow" not in manager.plugin_info
    assert manager.registry.find("backend", "tensorflow") is None


def test_misspelled_hook_is_an_error_naming_the_plugin(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_regster(registry):
            pass
    """
    name = add_plugin(site, source=source)
    manager = PluginManager(strict=False, autoload=True, blocked=())
    with pytest.raises(PluginValidationError, match=rf"{name}.*katman_regster.*katman_register"):
        manager.load_all()
    assert manager.get_plugin(name) is None


def test_hook_with_unknown_argument_is_an_error_naming_the_plugin(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_register(registry, config):
            pass
    """
    name = add_plugin(site, source=source)
    with pytest.raises(PluginValidationError, match=rf"{name}.*config"):
        PluginManager(strict=False, autoload=True, blocked=()).load_all()


def test_conflict_names_both_plugins(site):
    first = add_plugin(site, source=GOOD_PLUGIN.format(loss="contested"), ep_name="kt_a_first")
    second = add_plugin(site, source=GOOD_PLUGIN.format(loss="contested"), ep_name="kt_b_second")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    with pytest.raises(PluginConflictError, match=rf"'contested'.*'{first}'.*'{second}'"):
        manager.load_all()


def test_conflict_with_a_builtin_names_both_plugins(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_register(registry):
            registry.add_backend("torch", "kt_x:Backend", requires=("kt_x",), install="-")
    """
    name = add_plugin(site, source=source)
    with pytest.raises(PluginConflictError, match=rf"backend 'torch'.*'backends.torch'.*'{name}'"):
        PluginManager(strict=False, autoload=True, blocked=()).load_all()


def test_override_replaces_and_unloading_restores(site):
    source = """
        import katman

        def smooth(y_true, y_pred):
            return "override"

        @katman.hookimpl
        def katman_register(registry):
            registry.add("loss", "contested", smooth, override=True)
    """
    first = add_plugin(site, source=GOOD_PLUGIN.format(loss="contested"), ep_name="kt_a_first")
    second = add_plugin(site, source=source, ep_name="kt_b_second")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    manager.load_all()
    entry = manager.registry.get("loss", "contested")
    assert entry.plugin == second and entry.load()(0, 0) == "override"
    assert entry.overrides.plugin == first
    manager.registry.remove_plugin(second)
    assert manager.registry.get("loss", "contested").plugin == first


def test_plugin_name_taken_twice_is_a_failure(site):
    add_plugin(site, source=GOOD_PLUGIN.format(loss="one"), ep_name="kt_same")
    add_plugin(site, source=GOOD_PLUGIN.format(loss="two"), ep_name="kt_same")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    with pytest.warns(PluginLoadWarning, match="already used"):
        manager.load_all()
    assert len(manager.failures) == 1


def test_override_wins_whichever_plugin_loads_first(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_register(registry):
            registry.add("loss", "contested", lambda a, b: "override", override=True)
    """
    winner = add_plugin(site, source=source, ep_name="kt_a_overrider")  # sorts (loads) first
    loser = add_plugin(site, source=GOOD_PLUGIN.format(loss="contested"), ep_name="kt_b_plain")
    manager = PluginManager(strict=False, autoload=True, blocked=())
    manager.load_all()
    entry = manager.registry.get("loss", "contested")
    assert entry.plugin == winner and entry.overrides.plugin == loser
    manager.registry.remove_plugin(winner)
    assert manager.registry.get("loss", "contested").plugin == loser


def test_two_overrides_of_one_name_conflict(site):
    source = """
        import katman

        @katman.hookimpl
        def katman_register(registry):
            registry.add("loss", "contested", lambda a, b: 0, override=True)
    """
    add_plugin(site, source=source)
    add_plugin(site, source=source)
    with pytest.raises(PluginConflictError, match="Both say override=True"):
        PluginManager(strict=False, autoload=True, blocked=()).load_all()


def test_runtime_registration_that_fails_raises():
    import types

    import katman
    from katman.registry import register_plugin

    @katman.hookimpl
    def katman_register(registry):
        raise RuntimeError("broken at runtime")

    with pytest.raises(PluginLoadError, match=r"kt-runtime.*broken at runtime"):
        register_plugin(types.SimpleNamespace(katman_register=katman_register), "kt-runtime")
    assert "kt-runtime" not in katman.registry.plugin_manager().plugin_info


def test_backend_loaded_hook_reaches_plugins_registered_later(active_backend):
    import katman
    from katman.registry import register_plugin

    katman.backend.get_backend()  # the backend is loaded before the plugin registers
    seen = []

    class Watcher:
        @katman.hookimpl
        def katman_backend_loaded(self, backend):
            seen.append(backend.name)

    register_plugin(Watcher(), "kt-watcher")
    assert seen == [active_backend]
