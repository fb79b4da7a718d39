"""The CJK font the report uses everywhere: Noto Sans CJK SC, shipped inside the `mplfonts` package.

A fresh machine may have no CJK font at all; taking it from a Python dependency makes Chinese render the
same in the PDF, the charts and the offline HTML without any system package.
"""

from __future__ import annotations

import base64
import io
from functools import cache
from pathlib import Path

from gep.errors import GepError

FONT_FILE = "NotoSansCJKsc-Regular.otf"
FAMILY = "Noto Sans CJK SC"
# Characters the CJK font lacks that reports use; the PDF and charts write their plain equivalents.
PLAIN = str.maketrans({"₂": "2", "₃": "3", "ₓ": "x", "⁻": "-", **{s: str(i) for i, s in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}})


@cache
def font_path() -> Path:
    """Path of the bundled Noto Sans CJK SC font."""
    try:
        import mplfonts
    except ImportError as exc:  # a broken install, not a user error
        raise GepError("the report needs the 'mplfonts' package (it carries the CJK font); reinstall gep") from exc
    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    if not path.exists():
        raise GepError(f"CJK font {path} is missing from the mplfonts package")
    return path


def plain(text: str) -> str:
    """Text with the few characters the CJK font lacks replaced (CO₂ -> CO2)."""
    return text.translate(PLAIN)


def web_font_css(text: str) -> str:
    """An @font-face rule embedding a WOFF2 subset of the font with exactly the glyphs of `text`."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    font = subset.load_font(str(font_path()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + "0123456789.,%()-—:;/ ")
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f"@font-face {{ font-family: 'GepCJK'; src: url(data:font/woff2;base64,{data}) format('woff2'); "
            "font-weight: normal; font-style: normal; }")
