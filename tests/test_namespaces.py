"""The public namespaces resolve through the registry and behave like Keras's get/serialize."""

from __future__ import annotations

import json
import types

import pytest

import katman
from katman.errors import UnknownNameError
from katman.registry import register_plugin

NAMESPACES = {
    "layers": "layer",
    "losses": "loss",
    "metrics": "metric",
    "optimizers": "optimizer",
    "callbacks": "callback",
    "initializers": "initializer",
    "regularizers": "regularizer",
    "constraints": "constraint",
    "activations": "activation",
    "applications": "application",
}


class ScaledIdentity:
    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, x):
        return x

    def get_config(self):
        return {"scale": self.scale}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def hinge_like(y_true, y_pred):
    return y_pred


class NoConfig:
    pass


def _plugin() -> types.SimpleNamespace:
    @katman.hookimpl
    def katman_register(registry):
        for kind in NAMESPACES.values():
            registry.add(kind, "ScaledIdentity", ScaledIdentity, aliases=("scaled_identity",))
            registry.add(kind, "hinge_like", hinge_like)
        registry.add("loss", "NoConfig", NoConfig)

    return types.SimpleNamespace(katman_register=katman_register)


@pytest.fixture(scope="module", autouse=True)
def plugin():
    register_plugin(_plugin(), "nsplug")
    yield
    katman.registry.get_registry().remove_plugin("nsplug")


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_names_resolve_and_are_listed(namespace):
    module = getattr(katman, namespace)
    assert module.ScaledIdentity is ScaledIdentity
    assert module.scaled_identity is ScaledIdentity
    assert {"ScaledIdentity", "scaled_identity", "hinge_like", "get", "serialize"} <= set(
        dir(module)
    )
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        module.Nope  # noqa: B018
    with pytest.raises(AttributeError, match="Did you mean 'hinge_like'"):
        module.hinge_lik  # noqa: B018
    assert not {"Namespace", "annotations", "np"} & set(dir(module))


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_get_accepts_names_configs_objects_and_none(namespace):
    module = getattr(katman, namespace)
    assert isinstance(module.get("ScaledIdentity"), ScaledIdentity)  # classes are instantiated
    assert module.get("hinge_like") is hinge_like  # functions are returned
    instance = ScaledIdentity(2.5)
    assert module.get(instance) is instance
    if namespace == "activations":  # as Keras: no activation is the identity
        assert module.get(None) is module.get("linear")
    else:
        assert module.get(None) is None
    rebuilt = module.get(module.serialize(instance))
    assert isinstance(rebuilt, ScaledIdentity) and rebuilt.scale == 2.5
    with pytest.raises(UnknownNameError, match="Did you mean 'hinge_like'"):
        module.get("hinge_lik")
    with pytest.raises(ValueError, match="Could not interpret"):
        module.get(42)


def test_serialized_form_is_plain_json_with_plugin_prefix():
    config = katman.losses.serialize(ScaledIdentity(0.5))
    assert config == {
        "class_name": "ScaledIdentity",
        "registered_name": "nsplug>ScaledIdentity",
        "config": {"scale": 0.5},
    }
    assert json.loads(json.dumps(config)) == config
    assert katman.losses.serialize(hinge_like) == {
        "class_name": "function",
        "registered_name": "nsplug>hinge_like",
        "config": "hinge_like",
    }
    assert katman.losses.deserialize(katman.losses.serialize(hinge_like)) is hinge_like
    assert katman.losses.deserialize("hinge_like") is hinge_like


def test_deserialize_resolves_only_through_the_registry():
    hostile = {
        "class_name": "system",
        "registered_name": "os>system",
        "module": "os",
        "config": {"command": "echo pwned"},
    }
    with pytest.raises(UnknownNameError, match="Unknown loss 'os>system'"):
        katman.losses.deserialize(hostile)
    with pytest.raises(ValueError, match="expected a name or a dict"):
        katman.losses.deserialize(["ScaledIdentity"])


def test_custom_objects_take_precedence():
    class Local(ScaledIdentity):
        pass

    config = {"class_name": "Local", "config": {"scale": 3}}
    assert isinstance(katman.losses.deserialize(config, custom_objects={"Local": Local}), Local)


def test_serialize_unregistered_or_configless_objects_fails_clearly():
    class Unregistered:
        pass

    with pytest.raises(ValueError, match="not a registered loss"):
        katman.losses.serialize(Unregistered())
    with pytest.raises(ValueError, match="no get_config"):
        katman.losses.serialize(NoConfig())


def test_ops_namespace_lists_ops():
    assert {"add", "mean", "convert_to_tensor", "Op"} <= set(dir(katman.ops))
    assert katman.ops.add.name == "add"


def test_looked_up_names_follow_registry_changes():
    """A name is kept on its module after the first lookup; registering an override of it,
    or removing the plugin that supplied it, takes effect at the next lookup."""
    ops = katman.ops
    original = ops.relu
    replacement = ops.Op("relu", fallback=lambda x: x, reference=lambda x: x)
    assert vars(ops)["relu"] is original  # kept on the module: no __getattr__ call

    @katman.hookimpl
    def katman_register(registry):
        registry.add("op", "relu", replacement, override=True)
        registry.add("op", "kt_passing", replacement)

    register_plugin(types.SimpleNamespace(katman_register=katman_register), "kt-relu")
    try:
        assert ops.relu is replacement
        assert ops.kt_passing is replacement
    finally:
        katman.registry.get_registry().remove_plugin("kt-relu")
    assert ops.relu is original
    with pytest.raises(AttributeError, match="has no attribute 'kt_passing'"):
        ops.kt_passing  # noqa: B018
