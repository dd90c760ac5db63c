"""lockerhub connector for InPost ShipX-style parcel lockers (see ``connector.py``)."""

from lockerhub_inpost.config import InpostConfig
from lockerhub_inpost.connector import InpostConnector

__all__ = ["InpostConfig", "InpostConnector"]
