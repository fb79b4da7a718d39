"""A certificate as a PDF in Chinese and English: its lines, fingerprint, a QR code to its public page, and the
signed JSON document attached, so the file itself is what `gep certificate verify` checks."""

from __future__ import annotations

import io
import json
from typing import Any

import segno
from fpdf import FPDF

from gep.certificates import rules
from gep.report.fonts import font_path, plain

FONT = "gepcjk"
GREEN = (46, 125, 91)
MUTED = (95, 107, 100)
HEADINGS = {"exchange_trade": ("生态产品交易鉴证书", "Certificate of an ecological product transaction")}
DEFAULT_HEADING = ("证书", "Certificate")


def render(document: dict[str, Any], verify_url: str, revoked: bool = False) -> bytes:
    payload = document["payload"]
    zh, en = HEADINGS.get(str(payload.get("kind")), DEFAULT_HEADING)
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.set_title(f"{zh} {payload['serial']}")
    pdf.set_creator("gep")
    pdf.add_page()
    pdf.set_draw_color(*GREEN)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, 190, 277)
    pdf.set_text_color(*GREEN)
    pdf.set_font(FONT, size=22)
    pdf.cell(0, 12, zh, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=12)
    pdf.cell(0, 7, en, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 7, f"编号 No. {payload['serial']}    签发 Issued {str(payload.get('issued_at', ''))[:10]}", align="C",
             new_x="LMARGIN", new_y="NEXT")
    if revoked:
        pdf.set_text_color(180, 20, 20)
        pdf.set_font(FONT, size=14)
        pdf.cell(0, 9, "已撤销 REVOKED", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(4)
    lines = payload.get("lines") or []
    with pdf.table(col_widths=(52, 118), text_align=("LEFT", "LEFT"), line_height=6.2, first_row_as_headings=False,
                   borders_layout="HORIZONTAL_LINES") as table:
        for line in lines:
            row = table.row()
            pdf.set_font(FONT, size=9.5)
            row.cell(plain(f"{line.get('zh', '')}\n{line.get('en', '')}"))
            row.cell(plain(str(line.get("value", ""))))
    pdf.ln(6)
    y = pdf.get_y()
    qr = segno.make(verify_url, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=6, border=2)
    buf.seek(0)
    pdf.image(buf, x=150, y=y, w=38, h=38)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(20, y)
    pdf.multi_cell(125, 4.6, plain(
        "本证书由平台以 Ed25519 数字签名签发。扫描二维码可在平台核验其状态；亦可离线运行 "
        "“gep certificate verify 本文件.pdf”核验签名（签名数据附于本 PDF 内）。\n"
        "Signed by the platform with an Ed25519 digital signature. Scan the code to check its status on the "
        "platform, or verify the signature offline with \"gep certificate verify this.pdf\" (the signed data is "
        "attached to this PDF).\n"
        f"指纹 Fingerprint (SHA-256): {rules.digest(document)}\n"
        f"签名密钥 Signing key: {document['key_id']}\n"
        f"核验 Verify: {verify_url}"))
    pdf.set_text_color(0, 0, 0)
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    pdf.embed_file(bytes=data, basename=rules.ATTACHMENT, mime_type="application/json",
                   desc="signed certificate document")
    return bytes(pdf.output())
