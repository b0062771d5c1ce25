"""Epicenter: an open-source epidemic-intelligence platform."""

__version__ = "0.1.0"
