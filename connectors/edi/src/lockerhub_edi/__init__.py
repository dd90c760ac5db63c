"""The EDI engine shared by the X12 and EDIFACT connectors: segments with positions, envelope trees, errors."""

from lockerhub_edi.errors import EdiError, edi_location
from lockerhub_edi.segments import Delimiters, Segment
from lockerhub_edi.tree import Group, Interchange, Transaction

__all__ = ["Delimiters", "EdiError", "Group", "Interchange", "Segment", "Transaction", "edi_location"]
