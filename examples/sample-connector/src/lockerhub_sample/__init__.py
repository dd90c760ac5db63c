"""lockerhub connector for 'Sample Lockers', an emulated vendor: the sample plugin of docs/writing-a-connector.md."""

from lockerhub_sample.config import SampleConfig
from lockerhub_sample.connector import SampleConnector

__all__ = ["SampleConfig", "SampleConnector"]
