"""Extract, update, check and compile the gettext catalogues of the engine and of every domain (Babel).

Each catalogue belongs to one package: the engine's (gep/accounting, with gep/errors.py) and each domain's
folder (the kit's, auth's, regions' …). Messages are found in Python (``_``, ``N_``), in Jinja2 templates
(``_``) and in scripts (``T``); the msgid is the English text, the Chinese catalogue translates it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

from gep.kit.i18n import DOMAIN, catalogue_path, fields, read_catalogue
from gep.kit.platform import ENGINE_ROOT

TRANSLATED = ("zh",)
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "T": None}
METHODS = [("**/locale/**", "ignore"), ("**.py", "python"), ("**/templates/**.j2", "jinja2.ext:babel_extract"),
           ("**/static/**.js", "javascript")]
OPTIONS = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}


@dataclass(frozen=True)
class Source:
    """One catalogue: where it lives (root/locale) and which files feed it."""

    root: Path
    extra_files: tuple[Path, ...] = ()


def sources() -> list[Source]:
    from gep.app import DOMAINS

    operations = tuple(sorted((ENGINE_ROOT.parent / "operations").glob("*.py")))  # the operator's commands' words
    return [Source(ENGINE_ROOT, (ENGINE_ROOT.parent / "errors.py",)),
            *(Source(d.root, operations if d.name == "kit" else ()) for d in DOMAINS)]


def _messages(source: Source) -> Iterator[tuple[str, str, int]]:
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(source.root), METHODS, OPTIONS, KEYWORDS, strip_comment_tags=True):
        if isinstance(message, tuple):
            message = message[0]
        if message:
            yield message, filename, lineno
    for path in source.extra_files:
        for lineno, message, _comments, _context in extract_from_file("python", str(path), KEYWORDS):
            if isinstance(message, tuple):
                message = message[0]
            if message:
                yield message, path.name, lineno


def template(source: Source) -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="gep", charset="utf-8")
    for message, filename, lineno in _messages(source):
        catalog.add(message, locations=[(filename, lineno)])
    return catalog


def update_all() -> dict[str, tuple[int, int]]:
    """Update (or create) every Chinese catalogue from the code; returns (new, obsolete) counts per package."""
    out = {}
    for source in sources():
        pot = template(source)
        for lang in TRANSLATED:
            path = catalogue_path(source.root, lang)
            if path.exists():
                catalog = read_catalogue(path, lang)
                before = {m.id for m in catalog if m.id}
            else:
                catalog, before = Catalog(locale=lang, domain=DOMAIN, project="gep", charset="utf-8"), set()
            catalog.update(pot, no_fuzzy_matching=True)
            after = {m.id for m in catalog if m.id}
            path.parent.mkdir(parents=True, exist_ok=True)
            buf = io.BytesIO()
            write_po(buf, catalog, width=120, omit_header=False, sort_output=False, ignore_obsolete=True,
                     include_previous=False)
            path.write_bytes(buf.getvalue())
            out[str(source.root)] = (len(after - before), len(before - after))
    return out


def check_all() -> list[str]:
    """What a translator still has to do: messages without a Chinese translation (or fuzzy), translations
    whose {fields} differ from the English, and messages in a catalogue that the code no longer uses."""
    problems = []
    seen: dict[str, tuple[str, str]] = {}  # msgid -> (translation, package): one word, one translation
    for source in sources():
        pot = template(source)
        wanted = {m.id: m for m in pot if m.id}
        for lang in TRANSLATED:
            path = catalogue_path(source.root, lang)
            if not path.exists():
                problems.append(f"{path}: missing ({len(wanted)} message(s) to translate)")
                continue
            catalog = read_catalogue(path, lang)
            have = {m.id: m for m in catalog if m.id}
            for msgid, message in wanted.items():
                where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
                got = have.get(msgid)
                if got is None or not got.string or got.fuzzy:
                    problems.append(f"{path.relative_to(source.root)} [{source.root.name}]: untranslated {msgid!r} "
                                    f"({where})")
                elif fields(str(msgid)) != fields(str(got.string)):
                    problems.append(f"{path.relative_to(source.root)} [{source.root.name}]: {msgid!r} has fields "
                                    f"{sorted(fields(str(msgid)))}, its translation {sorted(fields(str(got.string)))}")
                else:
                    before = seen.setdefault(str(msgid), (str(got.string), source.root.name))
                    if before[0] != got.string:
                        problems.append(f"{msgid!r} is {before[0]!r} in [{before[1]}] but {got.string!r} in "
                                        f"[{source.root.name}]: the platform merges the catalogues, so translate it "
                                        "the same way")
            for msgid in set(have) - set(wanted):
                problems.append(f"{path.relative_to(source.root)} [{source.root.name}]: {msgid!r} is no longer used")
    return problems


def compile_all() -> list[Path]:
    written = []
    for source in sources():
        for lang in TRANSLATED:
            path = catalogue_path(source.root, lang)
            if path.exists():
                mo = path.with_suffix(".mo")
                with mo.open("wb") as fh:
                    write_mo(fh, read_catalogue(path, lang))
                written.append(mo)
    return written
