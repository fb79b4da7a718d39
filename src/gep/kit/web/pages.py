"""Server-rendered pages: one Jinja2 environment over the kit's templates and every domain's, autoescaped.

Every template is escaped whatever its suffix (Starlette's default escapes only .html/.htm/.xml, so a
``.html.j2`` page wrote request values raw). A domain's templates are addressed by its name
(``"regions/dashboard.html.j2"``) and extend the kit's ``base.html.j2``, which draws the navigation of the
caller's role, the language switch and the notification bell. Words come from the gettext catalogues
(``{{ _("…") }}``), and the page hands its scripts the catalogue of its language through /i18n/.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

import gep
from gep.kit.i18n import current_language, language
from gep.kit.platform import Platform
from gep.kit.principal import Principal
from gep.kit.web.deps import page_lang_of

KIT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def make_environment(platform: Platform) -> Environment:
    loaders: dict[str, Any] = {d.name: FileSystemLoader(str(d.templates)) for d in platform.domains if d.templates}
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(KIT_TEMPLATES)), PrefixLoader(loaders)]),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      extensions=["jinja2.ext.i18n"])
    catalogues = platform.catalogues

    def gettext(message: str) -> str:
        return catalogues.gettext(current_language())(message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return gettext(singular if n == 1 else plural)

    # old style: the words come back as they are (escaped like any text); newstyle would %-format them, and a
    # Chinese "（%）" is not a format
    env.install_gettext_callables(gettext, ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["version"] = gep.__version__
    return env


def words_version(platform: Platform, lang: str) -> str:
    """A short hash of a language's words, so /i18n/<lang>.js can be cached until they change."""
    blob = json.dumps(platform.catalogues.words(lang), sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:10]


def render(request: Request, template: str, caller: Principal | None, status_code: int = 200,
           **context: Any) -> Response:
    """A page in the request's language; `context` reaches the template, `config` its scripts (as JSON)."""
    platform: Platform = request.app.state.platform
    lang = page_lang_of(request)
    config = {"lang": lang, "csrf": caller.csrf_token if caller else "", **context.pop("config", {})}
    with language(lang):
        html = request.app.state.templates.get_template(template).render(
            request=request, lang=lang, caller=caller, nav=platform.nav_for(caller), config=config,
            words_version=words_version(platform, lang), **context)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("lang", lang, samesite="lax", max_age=365 * 86400)
    return response
