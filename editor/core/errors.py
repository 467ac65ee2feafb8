"""Errors as values a person can read: a one-line message plus optional technical detail."""

from __future__ import annotations


class LucidError(Exception):
    """Base of every error Lucid expects and shows to the user instead of crashing."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message
