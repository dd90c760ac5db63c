"""lockerhub connector for the bundled simulator's reference locker API (see ``connector.py``)."""

from lockerhub_simlocker.config import SimlockerConfig
from lockerhub_simlocker.connector import SimlockerConnector

__all__ = ["SimlockerConfig", "SimlockerConnector"]
