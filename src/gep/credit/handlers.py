"""What ecological credit hears from other domains: a discharge quota used up, a trade the winner defaulted on,
carbon retired for neutrality, a violation monitoring attributed to an enterprise or a village. Each becomes a
pending event for the party it names (reviewed before it counts); a second delivery of the same event records
nothing more."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from gep.credit import service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

QUOTA_EXCEEDED = "discharge.quota_exceeded"
TRADE_DEFAULTED = "exchange.trade_defaulted"
UNITS_RETIRED = "carbon.units_retired"
VIOLATION_FOUND = "monitoring.violation_found"


def _day(value: object, event: Event) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return service.today() if event.created_at is None else event.created_at.astimezone(service.CHINA).date()


def _party(session: Session, org_id: object, user_id: object, name: str) -> tuple[str, str, dict[str, object]]:
    """The subject a party of another domain is rated as: its organisation, or the person."""
    if org_id is not None:
        return "enterprise", f"org:{int(str(org_id))}", {"organisation_id": int(str(org_id))}
    return "individual", f"user:{int(str(user_id))}", {"user_id": int(str(user_id))}


def quota_exceeded(session: Session, event: Event) -> None:
    p = event.payload
    service.event_for(session, "enterprise", f"org:{int(p['organisation_id'])}", str(p.get("enterprise") or ""),
                      "N04", _day(None, event), f"domain:{event.type}:{event.id}",
                      note=f"{p.get('pollutant')} {p.get('year')}: {p.get('used_grams')} g / {p.get('held_grams')} g",
                      organisation_id=int(p["organisation_id"]), county_code=str(p.get("county_code") or ""))


def trade_defaulted(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("buyer_org_id") is None and p.get("buyer_user_id") is None:
        return
    kind, code, where = _party(session, p.get("buyer_org_id"), p.get("buyer_user_id"), str(p.get("buyer_name")))
    service.event_for(session, kind, code, str(p.get("buyer_name") or code), "N06", _day(p.get("on"), event),
                      f"domain:{event.type}:{event.id}", evidence=str(p.get("contract_no") or ""),
                      note=f"{p.get('listing')} ({p.get('step')})", **where)  # type: ignore[arg-type]


def units_retired(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("organisation_id") is None and p.get("user_id") is None:
        return
    kind, code, where = _party(session, p.get("organisation_id"), p.get("user_id"), str(p.get("holder_name")))
    service.event_for(session, kind, code, str(p.get("holder_name") or code), "P05", _day(p.get("on"), event),
                      f"domain:{event.type}:{event.id}", quantity=str(p.get("quantity") or ""),
                      evidence=str(p.get("retirement") or ""), **where)  # type: ignore[arg-type]


def violation_found(session: Session, event: Event) -> None:
    p = event.payload
    where: dict[str, object]
    if p.get("organisation_id") is not None:
        kind, code, where = "enterprise", f"org:{int(str(p['organisation_id']))}", {
            "organisation_id": int(str(p["organisation_id"]))}
    elif p.get("village_code"):
        kind, code = "village", f"village:{p['village_code']}"
        where = {"village_code": str(p["village_code"]), "county_code": str(p.get("county_code") or "")}
    else:
        return
    service.event_for(session, kind, code, str(p.get("name") or code), str(p.get("indicator") or "N08"),
                      _day(p.get("on"), event), f"domain:{event.type}:{event.id}",
                      evidence=f"monitoring alert {p.get('alert')}", note=str(p.get("note") or ""),
                      **where)  # type: ignore[arg-type]


HANDLERS = (EventHandler(QUOTA_EXCEEDED, quota_exceeded, name="credit.quota_exceeded"),
            EventHandler(TRADE_DEFAULTED, trade_defaulted, name="credit.trade_defaulted"),
            EventHandler(UNITS_RETIRED, units_retired, name="credit.units_retired"),
            EventHandler(VIOLATION_FOUND, violation_found, name="credit.violation_found"))
