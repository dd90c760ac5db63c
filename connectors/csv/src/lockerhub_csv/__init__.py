"""lockerhub connector for CSV file drops: shipments in from an inbox folder, status files out to an outbox.

See :mod:`lockerhub_csv.connector` for capabilities, configuration and pitfalls.
"""

from lockerhub_csv.config import CsvConfig
from lockerhub_csv.connector import CsvConnector

__all__ = ["CsvConfig", "CsvConnector"]
