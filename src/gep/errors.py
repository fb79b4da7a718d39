"""One exception root for gep; each subclass also inherits the built-in it resembles.

Messages are English templates with named fields (``"region {code} has no data for {year}"``): ``str(error)``
is the English sentence, and the platform translates the template through its gettext catalogues before it
fills in the fields, so a county user reads the same error in Chinese. ``N_`` marks a template for extraction
(Babel's keyword) without translating it where it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Gettext = Callable[[str], str]


def N_(template: str) -> str:
    """Mark a message template for the catalogues; it is translated where it is shown, not here."""
    return template


class Word(str):
    """A parameter that is itself a word of the catalogues (a status, a level name): translated with the
    message it fills, so a Chinese sentence does not carry an English word."""

    __slots__ = ()


class Phrase(str):
    """A parameter that is itself a template with fields (a hint such as " (did you mean 'x'?)"): it reads as
    English, and is translated and filled with the message it is part of."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Phrase:
        obj = super().__new__(cls, template.format(**params) if template else "")
        obj.template, obj.params = template, params
        return obj


def _fill(template: str, params: Mapping[str, Any], gettext: Gettext | None) -> str:
    text = gettext(template) if gettext else template
    if not params:
        return text
    if gettext:
        params = {k: _fill(v.template, v.params, gettext) if isinstance(v, Phrase) and v.template else
                  gettext(v) if isinstance(v, Word) else v for k, v in params.items()}
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):  # a translation that lost a field must not hide the error
        return template.format(**params)


class GepError(Exception):
    """Base of every error gep raises on purpose: a template and its fields."""

    def __init__(self, template: str = "", **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(_fill(template, params, None))

    def localized(self, gettext: Gettext) -> str:
        """The message in the language of `gettext`."""
        return _fill(self.template, self.params, gettext)


class InputError(GepError, ValueError):
    """Input data or arguments that cannot be used as given."""


class Problem:
    """One thing wrong with an input: where it is, and what was expected (both templates over `params`)."""

    __slots__ = ("message", "params", "where")

    def __init__(self, where: str, message: str, **params: Any) -> None:
        self.where, self.message, self.params = where, message, params

    def text(self, gettext: Gettext | None = None) -> str:
        return _fill(self.message, self.params, gettext)

    def place(self, gettext: Gettext | None = None) -> str:
        return _fill(self.where, self.params, gettext)

    def as_dict(self, gettext: Gettext | None = None) -> dict[str, str]:
        return {"where": self.place(gettext), "message": self.text(gettext)}

    def __str__(self) -> str:
        return f"{self.place()}: {self.text()}"

    def __repr__(self) -> str:
        return f"Problem({self.place()!r}, {self.text()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Problem) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class ProblemsError(InputError):
    """An input with one or more problems, listed all at once (the web answer lists them one by one)."""

    def __init__(self, template: str, problems: list[Problem], **params: Any) -> None:
        self.problems = list(problems)
        super().__init__(template, count=len(self.problems), **params)

    def __str__(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"{super().__str__()}:\n{lines}"


class RegionError(ProblemsError):
    """A region package with one or more problems."""

    def __init__(self, region: str, problems: list[Problem]) -> None:
        self.region = region
        super().__init__(N_("region package {region} has {count} problem(s)"), problems, region=region)


class FileError(ProblemsError):
    """A data file (parcels, statistics …) with one or more problems."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        super().__init__(N_("the file {file} has {count} problem(s); nothing was stored"), problems, file=file)


class MethodError(InputError):
    """A method profile that is unknown, malformed, or lacks a parameter an indicator needs."""


class NotAuthenticated(GepError):
    """No valid session or token: the caller must log in."""


class PermissionDenied(GepError, PermissionError):
    """The caller is known but their role may not do this."""


class NotFound(GepError, LookupError):
    """The thing asked for does not exist (or the caller may not know that it does)."""


class Conflict(GepError):
    """The request clashes with the current state (a duplicate name, a run already going)."""


class TooManyRequests(GepError):
    """Too many attempts in a short time (failed logins); try again after `retry_after` seconds."""

    def __init__(self, template: str = "", retry_after: int = 60, **params: Any) -> None:
        self.retry_after = retry_after
        super().__init__(template, retry_after=retry_after, **params)
