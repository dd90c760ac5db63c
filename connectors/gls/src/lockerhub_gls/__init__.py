"""lockerhub connector for the GLS/NXT out-of-home locker platform (see ``connector.py``)."""

from lockerhub_gls.config import GlsConfig
from lockerhub_gls.connector import GlsConnector
from lockerhub_gls.webhook import parse_locker_updates

__all__ = ["GlsConfig", "GlsConnector", "parse_locker_updates"]
