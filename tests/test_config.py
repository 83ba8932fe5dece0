"""katman.config: Keras's getters and setters, and katman.json."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katman import config
from katman.errors import KatmanError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("KATMAN_HOME", str(tmp_path))
    monkeypatch.setattr(config, "_overrides", {})
    return tmp_path


def test_defaults_match_keras():
    assert config.floatx() == "float32"
    assert config.epsilon() == 1e-7
    assert config.image_data_format() == "channels_last"


def test_katman_json_supplies_defaults_and_setters_win(isolated):
    (isolated / "katman.json").write_text(
        json.dumps({"floatx": "float64", "epsilon": 1e-5, "image_data_format": "channels_first"})
    )
    assert config.config_file() == isolated / "katman.json"
    assert (config.floatx(), config.epsilon(), config.image_data_format()) == (
        "float64", 1e-5, "channels_first",
    )  # fmt: skip
    config.set_floatx("float16")
    assert config.floatx() == "float16"


def test_katman_home_defaults_to_dot_katman(monkeypatch, tmp_path):
    monkeypatch.delenv("KATMAN_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.config_file() == tmp_path / ".katman" / "katman.json"


def test_settings_follow_the_folder_the_environment_names(monkeypatch, tmp_path):
    # Settings are cached per location, so switching HOME or KATMAN_HOME switches files.
    monkeypatch.delenv("KATMAN_HOME")
    for name, dtype in (("first", "float64"), ("second", "float16")):
        (tmp_path / name / ".katman").mkdir(parents=True)
        (tmp_path / name / ".katman" / "katman.json").write_text(json.dumps({"floatx": dtype}))
        monkeypatch.setenv("HOME", str(tmp_path / name))
        assert config.floatx() == dtype
    monkeypatch.setenv("KATMAN_HOME", str(tmp_path / "first" / ".katman"))
    assert config.floatx() == "float64"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_broken_katman_json_is_a_clear_error(isolated, content):
    (isolated / "katman.json").write_text(content)
    with pytest.raises(KatmanError, match=r"katman\.json"):
        config.floatx()


@pytest.mark.parametrize(
    ("key", "value", "getter"),
    [("floatx", "float8", config.floatx), ("epsilon", -1, config.epsilon),
     ("image_data_format", "NHWC", config.image_data_format)],
)  # fmt: skip
def test_bad_values_in_katman_json_name_the_file_and_key(isolated, key, value, getter):
    (isolated / "katman.json").write_text(json.dumps({key: value}))
    with pytest.raises(KatmanError, match=rf"Invalid '{key}' in .*katman\.json.*expected"):
        getter()


@pytest.mark.parametrize(
    ("setter", "value"),
    [(config.set_floatx, "float8"), (config.set_floatx, None), (config.set_epsilon, 0),
     (config.set_epsilon, "1e-7"), (config.set_epsilon, True),
     (config.set_image_data_format, "NHWC")],
)  # fmt: skip
def test_setters_refuse_bad_values_and_say_what_is_expected(setter, value):
    with pytest.raises(ValueError, match=f"{setter.__name__}: expected"):
        setter(value)


@given(
    floatx=st.sampled_from(["float16", "bfloat16", "float32", "float64"]),
    eps=st.floats(min_value=1e-12, max_value=0.5),
    layout=st.sampled_from(["channels_last", "channels_first"]),
)
def test_setters_round_trip(floatx, eps, layout):
    config.set_floatx(floatx)
    config.set_epsilon(eps)
    config.set_image_data_format(layout)
    assert (config.floatx(), config.epsilon(), config.image_data_format()) == (floatx, eps, layout)


def test_every_environment_variable_is_declared_with_help():
    names = [variable.name for variable in config.ENVIRONMENT]
    assert len(names) == len(set(names))
    assert all(name.startswith("KATMAN_") and variable.help for name, variable in
               zip(names, config.ENVIRONMENT, strict=True))  # fmt: skip
