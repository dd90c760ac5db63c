"""Configuration: environment variables, secrets, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from lockerhub_inpost import InpostConfig
from pydantic import ValidationError


def test_env_fills_what_the_config_leaves_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCKERHUB_INPOST_TOKEN", "from-env")
    monkeypatch.setenv("LOCKERHUB_INPOST_ORGANIZATION_ID", "77")
    config = InpostConfig(base_url="https://sandbox-api-shipx-pl.easypack24.net/")
    assert config.token.get_secret_value() == "from-env" and config.organization_id == 77
    assert config.base_url == "https://sandbox-api-shipx-pl.easypack24.net"
    assert (config.service, config.sending_method, config.per_page) == ("inpost_locker_standard", "dispatch_order",
                                                                        100)
    assert "from-env" not in repr(config) and "from-env" not in config.model_dump_json()
    assert InpostConfig.model_json_schema()["properties"]["token"]["env"] == "LOCKERHUB_INPOST_TOKEN"


@pytest.mark.parametrize(("fields", "wrong"), [
    ({"token": " "}, "token"),
    ({"organization_id": 0}, "organization_id"),
    ({"base_url": "ftp://example.com"}, "base_url"),
    ({"base_url": "https://user:pw@example.com"}, "base_url"),
    ({"per_page": 0}, "per_page"),
    ({"unknown": 1}, "unknown"),
])
def test_invalid_fields_are_named(fields: dict[str, object], wrong: str) -> None:
    settings = {"base_url": "https://example.com", "token": "t", "organization_id": 1, **fields}
    with pytest.raises(ValidationError) as err:
        InpostConfig(**settings)  # type: ignore[arg-type]
    assert wrong in {str(e["loc"][0]) for e in err.value.errors()}


def test_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    config = InpostConfig(base_url="https://example.com", token="t", organization_id=1, ca_bundle=bundle)
    assert config.tls_verify() == str(bundle)
    with pytest.raises(ValidationError, match="remove one of them"):
        InpostConfig(base_url="https://example.com", token="t", organization_id=1, ca_bundle=bundle,
                     verify_tls=False)
