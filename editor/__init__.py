"""Lucid: an offline photo editor whose AI tools write non-destructive layers."""

__version__ = "0.1.0"
