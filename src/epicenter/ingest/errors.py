"""Errors that stop a whole file (row-level problems go to the quarantine instead)."""

from __future__ import annotations


class IngestError(Exception):
    """A delivered file cannot be ingested; the message names the file and what is wrong."""
