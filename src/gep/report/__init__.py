"""One-click accounting report (一键生成核算报告): PDF, offline HTML and XLSX, in Chinese and English."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import rasterio

from gep.accounting.accounts import Accounts, read_accounts
from gep.errors import InputError

FORMATS = ("pdf", "html", "xlsx")


def _density_png(folder: Path, year: int, lang: str) -> bytes | None:
    """The value-density raster, read at a reduced size, drawn as a map (None when it was not written)."""
    from gep.report import figures

    path = folder / f"value_density_{year}.tif"
    if not path.exists():
        return None
    with rasterio.open(path) as src:
        step = max(1, max(src.width, src.height) // 1200)
        data = src.read(1, out_shape=(max(1, src.height // step), max(1, src.width // step)), masked=True)
    return figures.density_map(np.ma.filled(data.astype("float64"), np.nan), lang)


def write_report(accounts_dirs: list[Path], out: Path | None = None, lang: str = "zh",
                 formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Build the report of the latest of `accounts_dirs` and write it in each format; returns the files.

    Several folders (one per year) add the comparison across years at constant prices.
    """
    from gep.report.html import render_html
    from gep.report.model import build_report
    from gep.report.pdf import render_pdf
    from gep.report.xlsx import render_xlsx

    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise InputError(f"unknown report format(s) {', '.join(sorted(unknown))}; expected {', '.join(FORMATS)}")
    if lang not in ("zh", "en"):
        raise InputError(f"unknown report language {lang!r}; expected zh or en")
    pairs: list[tuple[Path, Accounts]] = []
    for d in map(Path, accounts_dirs):
        if not (d / "accounts.parquet").exists():
            raise InputError(f"{d} holds no accounts (accounts.parquet is missing); run `gep account` first")
        pairs.append((d, read_accounts(d)))
    pairs.sort(key=lambda p: int(p[1].metadata["year"]))
    latest_dir = pairs[-1][0]
    series = [a for _, a in pairs]
    year = int(series[-1].metadata["year"])
    report = build_report(series, lang, _density_png(latest_dir, year, lang))
    out = Path(out) if out else latest_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"gep_report_{series[-1].metadata['region']['id']}_{year}_{lang}"
    written: dict[str, Path] = {}
    renderers = {"pdf": lambda p: render_pdf(report, p), "html": lambda p: p.write_text(render_html(report), "utf-8"),
                 "xlsx": lambda p: render_xlsx(report, p)}
    for fmt in formats:
        target = out / f"{stem}.{fmt}"
        fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".{fmt}", dir=out)
        os.close(fd)
        try:
            renderers[fmt](Path(tmp))
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written[fmt] = target
    return written

