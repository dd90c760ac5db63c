"""lockerhub connector for UN/EDIFACT transport messages: IFTMIN shipments in from an inbox folder.

The engine is usable on its own: :func:`~lockerhub_edifact.tokenizer.iter_segments` (segments, streamed),
:mod:`~lockerhub_edifact.envelope` (``parse``, ``validate``, ``iter_interchanges``, ``iter_messages``) and the
``edifact`` mapping source format (:class:`~lockerhub_edifact.format.EdifactFormat`). See
:mod:`lockerhub_edifact.connector` for capabilities, configuration and pitfalls.
"""

from lockerhub_edifact.config import EdifactConfig
from lockerhub_edifact.connector import EdifactConnector
from lockerhub_edifact.envelope import (
    Document,
    EdifactGroup,
    EdifactInterchange,
    EdifactMessage,
    Stray,
    iter_interchanges,
    iter_messages,
    parse,
    validate,
)
from lockerhub_edifact.format import EdifactFormat
from lockerhub_edifact.tokenizer import iter_segments, parse_una

__all__ = [
    "Document",
    "EdifactConfig",
    "EdifactConnector",
    "EdifactFormat",
    "EdifactGroup",
    "EdifactInterchange",
    "EdifactMessage",
    "Stray",
    "iter_interchanges",
    "iter_messages",
    "iter_segments",
    "parse",
    "parse_una",
    "validate",
]
