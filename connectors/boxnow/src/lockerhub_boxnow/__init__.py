"""lockerhub connector for a BoxNow-style partner API (see ``connector.py``)."""

from lockerhub_boxnow.config import BoxnowConfig
from lockerhub_boxnow.connector import BoxnowConnector

__all__ = ["BoxnowConfig", "BoxnowConnector"]
