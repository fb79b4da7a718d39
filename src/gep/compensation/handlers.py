"""What damage valuation hears from other domains: carbon units retired for judicial restoration whose detail
names a damage case (DMG-YYYY-NNNN) count against that case's carbon-sink option."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from gep.compensation import damage_service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

UNITS_RETIRED = "carbon.units_retired"
CASE_CODE = re.compile(r"\bDMG-\d{4}-\d{4}\b")


def units_retired(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("purpose") != "court":
        return
    for code in CASE_CODE.findall(str(p.get("detail") or "")):
        damage_service.record_retirement(session, code, str(p.get("retirement")), int(str(p.get("quantity") or 0)),
                                         str(p.get("on") or ""))


HANDLERS = (EventHandler(UNITS_RETIRED, units_retired, name="compensation.units_retired"),)
