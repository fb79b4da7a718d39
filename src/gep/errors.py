"""One exception root for gep; each subclass also inherits the built-in it resembles."""

from __future__ import annotations

from dataclasses import dataclass


class GepError(Exception):
    """Base of every error gep raises on purpose."""


class InputError(GepError, ValueError):
    """Input data or arguments that cannot be used as given."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is, and what was expected."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class RegionError(InputError):
    """A region package with one or more problems; lists them all at once."""

    def __init__(self, region: str, problems: list[Problem]) -> None:
        self.region = region
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"region package {region} has {len(self.problems)} problem(s):\n{lines}")


class MethodError(InputError):
    """A method profile that is unknown, malformed, or lacks a parameter an indicator needs."""


class NotAuthenticated(GepError):
    """No valid session or token: the caller must log in."""


class PermissionDenied(GepError, PermissionError):
    """The caller is known but their role may not do this."""


class NotFound(GepError, LookupError):
    """The thing asked for does not exist."""


class Conflict(GepError):
    """The request clashes with the current state (a duplicate name, a run already going)."""
