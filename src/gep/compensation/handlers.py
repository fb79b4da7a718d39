"""What compensation hears from other domains: carbon units retired for judicial restoration whose detail names a
damage case (DMG-YYYY-NNNN) count against that case's carbon-sink option; a month measured by a monitoring
station at a cross-county section becomes that section's observations for the month."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from gep.compensation import damage_service, service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

UNITS_RETIRED = "carbon.units_retired"
MONTH_MEASURED = "monitoring.month_measured"
CASE_CODE = re.compile(r"\bDMG-\d{4}-\d{4}\b")


def units_retired(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("purpose") != "court":
        return
    for code in CASE_CODE.findall(str(p.get("detail") or "")):
        damage_service.record_retirement(session, code, str(p.get("retirement")), int(str(p.get("quantity") or 0)),
                                         str(p.get("on") or ""))


def month_measured(session: Session, event: Event) -> None:
    p = event.payload
    values = {str(k): str(v) for k, v in dict(p.get("values") or {}).items()}
    service.feed_month(session, str(p.get("section") or ""), int(p["year"]), int(p["month"]), values,
                       f"monitoring station {p.get('station')}")


HANDLERS = (EventHandler(UNITS_RETIRED, units_retired, name="compensation.units_retired"),
            EventHandler(MONTH_MEASURED, month_measured, name="compensation.month_measured"))
