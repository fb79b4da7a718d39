"""Errors of the InVEST-compatible mode; they are `InputError`s so the CLI reports them cleanly."""

from __future__ import annotations

from gep.errors import InputError


class InvestCompatError(InputError):
    """A datastack or an input that the InVEST-compatible mode cannot run as given."""
