"""lockerhub as an Airflow provider: the entry point Airflow reads, and hooks that match it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

pytestmark = pytest.mark.airflow


def test_the_provider_entry_point_describes_every_connection_type() -> None:
    (ep,) = [e for e in entry_points(group="apache_airflow_provider") if e.value.startswith("lockerhub.")]
    info = ep.load()()
    assert info["package-name"] == "lockerhub"
    types = {c["connection-type"]: c for c in info["connection-types"]}
    assert set(types) == {"lockerhub", "lockerhub_vendor", "lockerhub_tms"}
    for conn_type, entry in types.items():
        module, _, name = entry["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module), name)
        assert hook.conn_type == conn_type
        # the UI behaviour in the provider info is the hook's own (hidden fields, relabelled ones)
        behaviour = hook.get_ui_field_behaviour()
        assert behaviour["hidden_fields"] == entry["ui-field-behaviour"]["hidden-fields"]
        assert behaviour["relabeling"] == entry["ui-field-behaviour"]["relabeling"]
    assert types["lockerhub_vendor"]["ui-field-behaviour"]["relabeling"] == {
        "host": "API base URL", "password": "API key"}


def test_hooks_do_no_io_when_created() -> None:
    # a connection id that exists nowhere: creating the hook must not look it up
    code = ("from lockerhub.airflow.hooks import LockerVendorHook, LockerhubHook, TmsPartnerHook\n"
            "LockerhubHook('nowhere'); LockerVendorHook('nowhere'); TmsPartnerHook('nowhere')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def test_airflow_lists_lockerhub_connection_types(airflow_env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "airflow", "providers", "list", "-o", "json"], env=airflow_env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"lockerhub"' in proc.stdout


def test_a_soap_partner_connection_gives_its_ws_security_user_and_password(airflow_env: dict[str, str]) -> None:
    import json

    secret = "airflow-soap-test-password"  # not a credential
    env = {**airflow_env, "AIRFLOW_CONN_LOCKERHUB_PARTNER_ACME_SOAP": json.dumps({
        "conn_type": "lockerhub_tms", "login": "lockerhub", "password": secret,
        "extra": {"wsdl_url": "https://tms.example/transport?wsdl"}})}
    code = ("import json\nfrom lockerhub.airflow.hooks import TmsPartnerHook\n"
            "print(json.dumps(TmsPartnerHook('lockerhub_partner_acme_soap').config_overrides()))\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == {
        "wsdl_url": "https://tms.example/transport?wsdl", "username": "lockerhub", "password": secret}
