"""Translations through gettext catalogues (Babel): one ``.po`` per language and package, English as the msgid.

Every package with words of its own (the engine's validation messages, the kit, each domain) keeps them in
``<package>/locale/<lang>/LC_MESSAGES/messages.po``. The platform merges the catalogues of the packages it is
built from; `gep i18n update` extracts the messages from code, templates and scripts and updates the
catalogues, and `gep i18n check` lists what is missing, so a translator works in the ``.po`` files alone.
Chinese is the default language; English is the msgid itself and so is always complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from gep.errors import Gettext

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
DOMAIN = "messages"
_current: ContextVar[str] = ContextVar("gep_language", default=DEFAULT_LANGUAGE)
FIELD = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:[!:][^}]*)?\}")


def catalogue_path(root: Path, lang: str) -> Path:
    return root / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(path: Path, lang: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=DOMAIN)


def normalise_language(value: str | None) -> str | None:
    """'zh-CN', 'zh_Hans', 'en-GB' … → 'zh' / 'en'; None for anything else."""
    if not value:
        return None
    head = value.strip().lower().replace("_", "-").split("-")[0]
    return head if head in LANGUAGES else None


def language_from_header(accept: str) -> str | None:
    """The first supported language of an Accept-Language header, by its q-weights."""
    best: tuple[float, str] | None = None
    for i, part in enumerate(accept.split(",")):
        pieces = part.strip().split(";")
        lang = normalise_language(pieces[0])
        if lang is None:
            continue
        q = 1.0
        for p in pieces[1:]:
            if p.strip().startswith("q="):
                try:
                    q = float(p.strip()[2:])
                except ValueError:
                    q = 0.0
        key = (q - i * 1e-6, lang)
        if best is None or key > best:
            best = key
    return best[1] if best else None


@dataclass
class Catalogues:
    """The merged translations of a set of packages, loaded once."""

    roots: tuple[Path, ...]
    _words: dict[str, dict[str, str]] = field(default_factory=dict)

    def words(self, lang: str) -> dict[str, str]:
        """msgid → translation for a language (English: empty, the msgid is the text)."""
        if lang not in self._words:
            self._words[lang] = self._load(lang)
        return self._words[lang]

    def _load(self, lang: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        if lang == "en":
            return merged
        for root in self.roots:
            path = catalogue_path(root, lang)
            if not path.exists():
                continue
            for message in read_catalogue(path, lang):
                if not message.id or not message.string or message.fuzzy:
                    continue
                msgid = str(message.id[0] if isinstance(message.id, tuple | list) else message.id)
                text = str(message.string[0] if isinstance(message.string, tuple | list) else message.string)
                if msgid in merged and merged[msgid] != text:
                    log.warning("msgid %r is translated differently in %s; keeping the first", msgid, path)
                    continue
                merged[msgid] = text
        return merged

    def gettext(self, lang: str) -> Gettext:
        words = self.words(lang)
        return lambda msgid: words.get(msgid, msgid)

    def translate(self, msgid: str, lang: str | None = None, **params: Any) -> str:
        text = self.words(lang or current_language()).get(msgid, msgid)
        return text.format(**params) if params else text


def current_language() -> str:
    return _current.get()


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Run a block in a language (pages, API errors and the worker's messages)."""
    token = _current.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)


def fields(template: str) -> set[str]:
    """The named fields of a message template (``{name}``), to check translations keep them all."""
    return set(FIELD.findall(template))


def pick(mapping: Mapping[str, str], lang: str) -> str:
    """A value of a {'zh': …, 'en': …} mapping, falling back to Chinese."""
    return mapping.get(lang) or mapping.get(DEFAULT_LANGUAGE) or next(iter(mapping.values()), "")
