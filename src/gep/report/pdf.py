"""The PDF report, laid out with fpdf2 in the bundled CJK font (embedded as a subset)."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from gep.report.fonts import font_path, plain
from gep.report.model import Paragraph, Report, Table

GREEN = (46, 125, 91)
MUTED = (95, 107, 100)
HEAD_FILL = (238, 244, 240)
FONT = "gepcjk"


class _Document(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report = report
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(FONT, "", str(font_path()))
        self.set_font(FONT, size=10)
        self.set_title(plain(report.title))
        self.set_creator("gep")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, plain(self.report.title), align="L")
        self.cell(0, 5, f"{self.page_no()}", align="R")
        self.set_text_color(0, 0, 0)


def _heading(pdf: _Document, text: str, size: float, color: tuple[int, int, int] = GREEN, space: float = 4) -> None:
    pdf.ln(space)
    pdf.set_font(FONT, size=size)
    pdf.set_text_color(*color)
    pdf.multi_cell(0, size * 0.5, plain(text), align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=10)
    pdf.ln(1)


def _paragraph(pdf: _Document, text: str, size: float = 10) -> None:
    pdf.set_font(FONT, size=size)
    pdf.multi_cell(0, size * 0.55, plain(text), align="L")
    pdf.ln(1.5)


def _widths(pdf: _Document, table: Table, total: float) -> list[float]:
    """Column widths (mm) from the rendered text: numbers keep their natural width so they never wrap;
    only wide text columns (sources, names) give up room when the table is too wide for the page."""
    pad = 2.4
    natural = []
    for i in range(len(table.columns)):
        cells = [str(table.columns[i])] + [_clip(plain(str(r[i]))) for r in table.rows]
        natural.append(min(max(pdf.get_string_width(c) for c in cells) + pad, 90.0))
    if sum(natural) <= total:
        return [w * total / sum(natural) for w in natural]
    fixed = [i in table.numeric for i in range(len(natural))]
    room = total - sum(w for w, f in zip(natural, fixed, strict=True) if f)
    flexible = sum(w for w, f in zip(natural, fixed, strict=True) if not f)
    if room <= 0 or flexible <= 0:
        return [w * total / sum(natural) for w in natural]
    return [w if f else max(w * room / flexible, 10.0) for w, f in zip(natural, fixed, strict=True)]


def _clip(text: str, limit: int = 220) -> str:
    """Long cells (sources, notes) are cut in the PDF; the HTML and XLSX keep them whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(pdf: _Document, table: Table) -> None:
    _heading(pdf, table.title, 11, color=(31, 42, 36), space=2)
    size = 8 if len(table.columns) <= 6 else 7
    pdf.set_font(FONT, size=size)
    align = tuple("RIGHT" if i in table.numeric else "LEFT" for i in range(len(table.columns)))
    with pdf.table(col_widths=_widths(pdf, table, pdf.epw), text_align=align, line_height=size * 0.55,
                   headings_style=FontFace(fill_color=HEAD_FILL, color=(31, 42, 36)),
                   borders_layout="HORIZONTAL_LINES", first_row_as_headings=True, repeat_headings=1,
                   padding=1) as t:
        header = t.row()
        for c in table.columns:
            header.cell(plain(str(c)))
        for r in table.rows:
            row = t.row()
            for c in r:
                row.cell(_clip(plain(str(c))))
    pdf.set_font(FONT, size=10)
    if table.note:
        _paragraph(pdf, table.note, 8)
    pdf.ln(2)


def _figure(pdf: _Document, title: str, png: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        w_px, h_px = im.size
    width = pdf.epw
    height = width * h_px / w_px
    if height > 200:
        height, width = 200, 200 * w_px / h_px
    if pdf.get_y() + height + 10 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.image(io.BytesIO(png), x=pdf.l_margin + (pdf.epw - width) / 2, w=width, h=height)
    pdf.set_font(FONT, size=8)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 4, plain(title), align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=10)
    pdf.ln(3)


def render_pdf(report: Report, path: Path) -> None:
    """Write the report as a PDF to `path`."""
    pdf = _Document(report)
    pdf.add_page()
    pdf.ln(20)
    _heading(pdf, report.title, 20, space=0)
    _paragraph(pdf, report.subtitle, 9)
    pdf.ln(4)
    pdf.set_font(FONT, size=10)
    with pdf.table(col_widths=(45, pdf.epw - 45), borders_layout="NONE", first_row_as_headings=False,
                   line_height=6) as t:
        for k, v in report.key_figures:
            row = t.row()
            row.cell(plain(k))
            row.cell(plain(v))
    for i, section in enumerate(report.sections):
        if section.id in ("levels", "maps", "parameters"):
            pdf.add_page()
        _heading(pdf, section.title, 15, space=2 if i == 0 else 6)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                _paragraph(pdf, block.text)
            elif isinstance(block, Table):
                _table(pdf, block)
            else:
                _figure(pdf, block.title, block.png)
        for b in section.bullets:
            _paragraph(pdf, f"• {b}", 9)
    pdf.output(str(path))
