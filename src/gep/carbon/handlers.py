"""What the carbon registry does after the exchange's events: units of a settled trade go from escrow to the
buyer; units a listing did not sell go back to their seller. Both are idempotent (at-least-once delivery)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gep.carbon import service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

TRADE_SETTLED = "exchange.trade_settled"
LISTING_ENDED = "exchange.listing_ended"


def trade_settled(session: Session, event: Event) -> None:
    p = event.payload
    if str(p.get("units_ref") or "").startswith(service.UNITS_REF):
        service.deliver(session, str(p["units_ref"]), int(p["deal_id"]), int(p["quantity"]), p.get("buyer_org_id"),
                        p.get("buyer_user_id"), str(p.get("buyer_name") or ""), str(p.get("listing") or ""))


def listing_ended(session: Session, event: Event) -> None:
    p = event.payload
    if str(p.get("units_ref") or "").startswith(service.UNITS_REF):
        service.listing_ended(session, str(p["units_ref"]), int(p.get("sold") or 0), str(p.get("listing") or ""))


HANDLERS = (EventHandler(TRADE_SETTLED, trade_settled, name="carbon.trade_settled"),
            EventHandler(LISTING_ENDED, listing_ended, name="carbon.listing_ended"))
