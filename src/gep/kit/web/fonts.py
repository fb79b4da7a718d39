"""A Chinese web font for browsers on machines without one, cut from the font the report already ships.

The pages name the usual local CJK fonts first (PingFang, Microsoft YaHei, Noto/Source Han Sans); only a
browser that has none of them downloads anything. It then gets one *common* slice — the 6,763 characters of
GB 2312 plus CJK punctuation and full-width forms, about 2.4 MB — and, only for a rare character such as
垵, the 512-code-point slice that holds it. The browser picks slices by their ``unicode-range``: the common
face is declared last, so it is tried first, and a rare slice is fetched only for what the common one lacks.
Slices are cut with fontTools the first time they are asked for and kept in the cache folder.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

from gep.errors import N_, NotFound

log = logging.getLogger(__name__)
FAMILY = "GEP CJK"
BLOCKS = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]
SLICE = 512
PUNCTUATION = [(0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2E80, 0x2EFF), (0x3100, 0x312F)]
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@cache
def common_codepoints() -> tuple[int, ...]:
    chars: set[int] = set()
    for hi in range(0xB0, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    for lo, hi in PUNCTUATION:
        chars.update(range(lo, hi + 1))
    return tuple(sorted(chars))


def slices() -> list[tuple[str, int, int]]:
    """(name, first, last) of the rare slices."""
    out = []
    for lo, hi in BLOCKS:
        for start in range(lo, hi + 1, SLICE):
            out.append((f"{start:04x}", start, min(start + SLICE - 1, hi)))
    return out


def _ranges(points: tuple[int, ...]) -> str:
    runs: list[tuple[int, int]] = []
    for p in points:
        if runs and p == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


@cache
def stylesheet() -> str:
    # one face for every weight (bold text uses the regular outlines: a browser does not synthesize bold for a
    # segmented family reliably, and boxes are worse than regular strokes)
    face = "font-family: '{family}'; src: url('/fonts/cjk-{name}.woff') format('woff'); unicode-range: {ranges}; " \
           "font-weight: 100 900; font-display: swap;"
    rules = ["@font-face { " + face.format(family=FAMILY, name=name, ranges=f"U+{lo:X}-{hi:X}") + " }"
             for name, lo, hi in slices()]
    rules.append("@font-face { " + face.format(family=FAMILY, name="common", ranges=_ranges(common_codepoints()))
                 + " }")
    return "\n".join(rules) + "\n"


def slice_file(cache_dir: Path, name: str) -> Path:
    """The WOFF file of a slice ('common' or a rare slice's hex start), cut on first use."""
    if name == "common":
        points = list(common_codepoints())
    else:
        match = [(lo, hi) for n, lo, hi in slices() if n == name]
        if not match:
            raise NotFound(N_("there is no font slice {name}"), name=name)
        points = list(range(match[0][0], match[0][1] + 1))
    target = cache_dir / "fonts" / f"cjk-{name}.woff"
    if target.exists():
        return target
    with _guard:
        lock = _locks.setdefault(name, threading.Lock())
    with lock:
        if not target.exists():
            _cut(points, target)
    return target


def _cut(points: list[int], target: Path) -> None:
    from fontTools import subset

    from gep.report.fonts import font_path

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.hinting = False
    options.notdef_outline = True
    font = subset.load_font(str(font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=points)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    subset.save_font(font, str(tmp), options)
    tmp.replace(target)
    log.info("cut web font slice %s (%d code points, %d bytes)", target.name, len(points), target.stat().st_size)


def warm(cache_dir: Path) -> None:
    """Cut the common slice ahead of the first browser that needs it (a background thread at start-up)."""
    try:
        slice_file(cache_dir, "common")
    except Exception:  # the pages still work with local fonts; the log says why the web font is missing
        log.exception("could not prepare the CJK web font")
