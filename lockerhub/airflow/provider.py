"""``get_provider_info()``: what Airflow's providers manager learns about lockerhub (entry point
``apache_airflow_provider``). No Airflow import here: the manager reads this before anything else is loaded.

Connection types (each with its UI field behaviour: fields a user does not need are hidden, the others are
relabelled with what they hold):

- ``lockerhub``: the hub itself. Host = the hub config file; password = the PII key ring (``kid:base64key,...``);
  extra = ``{"data_dir": ..., "database_url": ...}``. Default connection id ``lockerhub_default``.
- ``lockerhub_vendor``: a locker vendor API. Host = the API base URL, password = the API key; extra = any other
  connector config value. Connection id ``lockerhub_vendor_<name>`` for the vendor ``<name>`` of the hub config.
- ``lockerhub_tms``: a TMS trading partner. Extra = connector config values kept out of YAML (e.g. folders on a
  mounted share); login and password = the WS-Security user and password a SOAP partner's TMS is called with
  (``username``/``password`` of the ``soap`` connector; leave them empty for file partners). Connection id
  ``lockerhub_partner_<name>``.
"""

from __future__ import annotations

from typing import Any

from lockerhub.plugins.registry import package_version

HOOKS = "lockerhub.airflow.hooks"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "lockerhub",
        "name": "lockerhub",
        "description": "Parcel-locker integration hub: TMS formats in, locker vendor APIs out, one canonical model.",
        "versions": [package_version("lockerhub")],
        "integrations": [{"integration-name": "lockerhub", "tags": ["service"]}],
        "hooks": [{"integration-name": "lockerhub", "python-modules": [HOOKS]}],
        "notifications": ["lockerhub.airflow.notifier.LockerAlertNotifier"],
        "connection-types": [
            {
                "hook-class-name": f"{HOOKS}.LockerhubHook",
                "hook-name": "lockerhub hub",
                "connection-type": "lockerhub",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "Hub config file", "password": "PII key ring"},
                    "placeholders": {"host": "/opt/lockerhub/lockerhub.yaml", "password": "kid:base64key,...",
                                     "extra": '{"data_dir": "/var/lib/lockerhub"}'},
                },
            },
            {
                "hook-class-name": f"{HOOKS}.LockerVendorHook",
                "hook-name": "lockerhub locker vendor",
                "connection-type": "lockerhub_vendor",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "API base URL", "password": "API key"},
                    "placeholders": {"host": "https://api.vendor.example", "extra": '{"timeout_s": 10}'},
                },
            },
            {
                "hook-class-name": f"{HOOKS}.TmsPartnerHook",
                "hook-name": "lockerhub TMS partner",
                "connection-type": "lockerhub_tms",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "host"],
                    "relabeling": {"login": "SOAP username (WS-Security)", "password": "SOAP password"},
                    "placeholders": {"extra": '{"inbox": "/mnt/edi/acme/in", "outbox": "/mnt/edi/acme/out"}'},
                },
            },
        ],
    }
