"""The registry on its own: kinds, names, aliases, lazy targets, conflicts, overrides."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katman.errors import PluginConflictError, PluginLoadError, UnknownNameError
from katman.registry import KINDS, Registry


def register(registry: Registry, plugin: str, *adds, builtin: bool = False) -> None:
    registrar = registry.stage(plugin, builtin=builtin)
    for kind, name, target, options in adds:
        registrar.add(kind, name, target, **options)
    registry.commit(registrar)


def mse(y_true, y_pred):
    return (y_pred - y_true) ** 2


def test_lookup_by_name_alias_and_registered_name():
    registry = Registry()
    register(registry, "core", ("loss", "mean_squared_error", mse, {"aliases": ("mse",)}),
             builtin=True)  # fmt: skip
    register(registry, "extra", ("loss", "mse_plus", mse, {}))
    assert registry.load("loss", "mse") is mse
    assert registry.get("loss", "mean_squared_error").registered_name == "mean_squared_error"
    assert registry.get("loss", "extra>mse_plus").registered_name == "extra>mse_plus"
    assert registry.find("loss", "other>mse_plus") is None
    assert registry.all_names("loss") == ["mean_squared_error", "mse", "mse_plus"]


def test_unknown_name_suggests_and_lists_known_names():
    registry = Registry()
    register(registry, "core", ("optimizer", "adam", object, {}), ("optimizer", "sgd", object, {}))
    with pytest.raises(UnknownNameError) as caught:
        registry.get("optimizer", "adma")
    message = str(caught.value)
    assert "Unknown optimizer 'adma'" in message
    assert "Did you mean 'adam'?" in message
    assert "Known optimizer names: adam, sgd." in message
    assert isinstance(caught.value, ValueError)


def test_unknown_kind_lists_kinds():
    with pytest.raises(UnknownNameError, match="Known kinds: layer, optimizer"):
        Registry().names("widget")
    with pytest.raises(UnknownNameError):
        Registry().stage("p", builtin=False).add("widget", "w", object)


@pytest.mark.parametrize(
    ("name", "target", "error"),
    [("", object, TypeError), ("a>b", object, TypeError), (3, object, TypeError),
     ("lazy", "no_colon_path", ValueError), ("lazy", ":attr", ValueError)],
)  # fmt: skip
def test_bad_names_and_targets_are_refused(name, target, error):
    with pytest.raises(error):
        Registry().stage("p", builtin=False).add("loss", name, target)


def test_lazy_target_is_imported_only_on_load(tmp_path, monkeypatch):
    (tmp_path / "kt_lazy_target.py").write_text("def fn():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry()
    register(registry, "lazy", ("activation", "answer", "kt_lazy_target:fn", {}))
    assert "kt_lazy_target" not in sys.modules
    assert registry.find_object("activation", object()) is None
    assert "kt_lazy_target" not in sys.modules
    assert registry.load("activation", "answer")() == 42
    del sys.modules["kt_lazy_target"]


def test_find_object_matches_lazy_entries_by_path_without_importing():
    registry = Registry()
    register(registry, "p", ("loss", "mse", f"{__name__}:mse", {}))
    assert registry.find_object("loss", mse).name == "mse"


def test_lazy_target_that_fails_names_the_plugin():
    registry = Registry()
    register(registry, "shaky", ("layer", "Ghost", "kt_no_such_module:Ghost", {}))
    with pytest.raises(PluginLoadError, match=r"layer 'Ghost' of plugin 'shaky'.*kt_no_such"):
        registry.load("layer", "Ghost")


def test_a_plugin_registering_a_name_twice_is_refused():
    registrar = Registry().stage("p", builtin=False)
    registrar.add("metric", "acc", object)
    with pytest.raises(PluginConflictError, match="registers metric 'acc' twice"):
        registrar.add("metric", "other", object, aliases=("acc",))


def test_alias_conflicts_with_another_plugins_name():
    registry = Registry()
    register(registry, "a", ("loss", "mse", mse, {}))
    with pytest.raises(PluginConflictError, match=r"'a'.*'b'"):
        register(registry, "b", ("loss", "mean_squared_error", mse, {"aliases": ["mse"]}))


def test_commit_is_all_or_nothing():
    registry = Registry()
    register(registry, "a", ("loss", "taken", mse, {}))
    with pytest.raises(PluginConflictError):
        register(registry, "b", ("loss", "fresh", mse, {}), ("loss", "taken", mse, {}))
    assert registry.find("loss", "fresh") is None


names = st.sampled_from(["alpha", "beta", "gamma", "delta"])
plugins = st.sampled_from(["p1", "p2", "p3"])
operations = st.lists(st.tuples(plugins, st.sampled_from(KINDS), names, st.booleans()), max_size=25)


@given(operations)
def test_registry_follows_the_conflict_rules(ops):
    """Every sequence of registrations matches a plain model: a taken name may be registered
    again only if exactly one of the two entries says override=True, and that one owns it."""
    registry = Registry()
    model: dict[tuple[str, str], tuple[str, bool]] = {}
    for plugin, kind, name, override in ops:
        key = (kind, name)
        if key in model and model[key][1] == override:
            with pytest.raises(PluginConflictError) as caught:
                register(registry, plugin, (kind, name, object(), {"override": override}))
            assert repr(model[key][0]) in str(caught.value) and repr(plugin) in str(caught.value)
            continue
        register(registry, plugin, (kind, name, object(), {"override": override}))
        if key not in model or override:
            model[key] = (plugin, override)
    for kind in KINDS:
        assert registry.names(kind) == sorted(n for k, n in model if k == kind)
    for (kind, name), (plugin, _) in model.items():
        assert registry.get(kind, name).plugin == plugin
