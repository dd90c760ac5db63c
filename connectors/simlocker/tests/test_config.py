from __future__ import annotations

import pydantic
import pytest
from lockerhub_simlocker import SimlockerConfig


def test_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_SIMLOCKER_API_KEY", "from-env")
    config = SimlockerConfig(base_url="http://127.0.0.1:8711")
    assert config.api_key.get_secret_value() == "from-env"
    assert SimlockerConfig(base_url="http://h", api_key="explicit").api_key.get_secret_value() == "explicit"


def test_missing_key_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCKERHUB_SIMLOCKER_API_KEY", raising=False)
    with pytest.raises(pydantic.ValidationError) as err:
        SimlockerConfig(base_url="http://127.0.0.1:8711")
    assert [e["loc"] for e in err.value.errors()] == [("api_key",)]


@pytest.mark.parametrize(("given", "normalised"), [
    ("http://127.0.0.1:8711/", "http://127.0.0.1:8711"),
    ("https://sim.example.com/api", "https://sim.example.com/api"),
])
def test_base_url_is_normalised(given: str, normalised: str) -> None:
    assert SimlockerConfig(base_url=given, api_key="k").base_url == normalised


@pytest.mark.parametrize("bad", ["not a url", "ftp://host", "http://user:pw@host", "http://host/?token=1"])
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as err:
        SimlockerConfig(base_url=bad, api_key="k")
    assert err.value.errors()[0]["loc"][0] == "base_url"


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(pydantic.ValidationError) as err:
        SimlockerConfig(base_url="http://h", api_key="k", verify_ssl=False)  # type: ignore[call-arg]
    assert err.value.errors()[0]["loc"] == ("verify_ssl",)


def test_spec_is_json_schema() -> None:
    schema = SimlockerConfig.model_json_schema()
    assert set(schema["required"]) == {"base_url", "api_key"}
    assert schema["properties"]["api_key"]["env"] == "LOCKERHUB_SIMLOCKER_API_KEY"
