"""lockerhub connector for ANSI ASC X12 transport EDI: files of interchanges in, canonical shipments out.

Modules: :mod:`~lockerhub_x12.tokenizer` (text -> segments), :mod:`~lockerhub_x12.envelope` (segments ->
checked interchange trees), :mod:`~lockerhub_x12.format` (the ``x12`` mapping format), :mod:`~lockerhub_x12.connector`
(the plugin). Importing this package is cheap: it only names the public API.
"""

from lockerhub_x12.config import X12Config
from lockerhub_x12.connector import X12Connector
from lockerhub_x12.envelope import EnvelopeReader, X12Document, parse, parse_file, validate, validate_file
from lockerhub_x12.format import X12Format, X12Loop, X12Stray, X12Transaction
from lockerhub_x12.tokenizer import iter_segments, read_isa

__all__ = ["EnvelopeReader", "X12Config", "X12Connector", "X12Document", "X12Format", "X12Loop", "X12Stray",
           "X12Transaction", "iter_segments", "parse", "parse_file", "read_isa", "validate", "validate_file"]
