"""The offline HTML report: one file, with its images, styles and a subset of the CJK font inside it."""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, select_autoescape

from gep.report.fonts import web_font_css
from gep.report.model import Report


def render_html(report: Report) -> str:
    """A self-contained HTML document (no network access needed to view it)."""
    env = Environment(loader=PackageLoader("gep.report", "templates"), autoescape=select_autoescape(["html", "j2"]))
    images = {f.id: base64.b64encode(f.png).decode("ascii") for s in report.sections for f in s.figures}
    return env.get_template("report.html.j2").render(report=report, images=images,
                                                     font_css=web_font_css(report.text()))
