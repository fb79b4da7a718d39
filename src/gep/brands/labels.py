"""Printable sheets of trace labels: A4 sheets of 3 × 7 labels of 63.5 × 38.1 mm (the common L7160 label stock),
each with the QR code of its public trace page, the brand, the product, the batch and the code written out for a
buyer without a camera."""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from fpdf import FPDF

from gep.report.fonts import font_path, plain

FONT = "gepcjk"
GREEN = (46, 125, 91)
COLUMNS, ROWS = 3, 7
WIDTH, HEIGHT = 63.5, 38.1
LEFT, TOP, GAP = 7.25, 15.15, 2.5


def trace_url(base_url: str, code: str, batch_no: str) -> str:
    """What a label's QR code holds: the public trace page of the code, naming the batch printed beside it."""
    return f"{base_url.rstrip('/')}/trace/{code}?b={batch_no}"


def spaced(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def render(brand_zh: str, product: str, batch_no: str, codes: Sequence[tuple[int, str]], base_url: str) -> bytes:
    """A PDF of the labels of `codes` ((serial, code) pairs), in serial order."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.set_title(f"{brand_zh} {batch_no}")
    pdf.set_creator("gep")
    per_page = COLUMNS * ROWS
    for n, (serial, code) in enumerate(codes):
        if n % per_page == 0:
            pdf.add_page()
        slot = n % per_page
        x = LEFT + (slot % COLUMNS) * (WIDTH + GAP)
        y = TOP + (slot // COLUMNS) * HEIGHT
        pdf.set_draw_color(220, 226, 222)
        pdf.set_line_width(0.1)
        pdf.rect(x, y, WIDTH, HEIGHT)
        buf = io.BytesIO()
        segno.make(trace_url(base_url, code, batch_no), error="m").save(buf, kind="png", scale=4, border=1)
        buf.seek(0)
        pdf.image(buf, x=x + 2, y=y + 3, w=32, h=32)
        pdf.set_xy(x + 35, y + 4)
        pdf.set_text_color(*GREEN)
        pdf.set_font(FONT, size=11)
        pdf.cell(27, 5, plain(brand_zh))
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, size=7)
        pdf.set_xy(x + 35, y + 10.5)
        pdf.multi_cell(27, 3.4, plain(product[:40]))
        pdf.set_xy(x + 35, y + 20)
        pdf.cell(27, 3.4, plain(batch_no))
        pdf.set_xy(x + 35, y + 24)
        pdf.set_font(FONT, size=7.5)
        pdf.cell(27, 3.6, spaced(code))
        pdf.set_xy(x + 35, y + 28.5)
        pdf.set_font(FONT, size=6)
        pdf.set_text_color(95, 107, 100)
        pdf.cell(27, 3, f"No. {serial}  扫码溯源")
        pdf.set_text_color(0, 0, 0)
    return bytes(pdf.output())
