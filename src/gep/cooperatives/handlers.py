"""What cooperatives do after the exchange's events: a package's sale is revenue shared out to the holders by
their contracts; a package whose listing ended without a sale may be offered again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from gep.cooperatives import rules, service
from gep.cooperatives.models import AssetPackage
from gep.kit.audit import audit
from gep.kit.domain import EventHandler
from gep.kit.events import Event
from gep.kit.principal import SYSTEM

TRADE_SETTLED = "exchange.trade_settled"
LISTING_ENDED = "exchange.listing_ended"


def trade_settled(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("package_id") is None:
        return
    package = session.get(AssetPackage, int(p["package_id"]))
    if package is None:
        return
    proceeds = rules.from_fen(int(p["total_fen"]) - int(p.get("fee_fen") or 0))
    service.record_revenue(session, package, Decimal(proceeds), date.fromisoformat(str(p["settled_on"])), SYSTEM,
                           source=f"exchange {p.get('listing')}", idempotency_key=f"exchange:{p['deal_id']}",
                           received_outside=False)
    package.status = "closed"
    audit(session, SYSTEM, "sold", "coop_package", package.id, listing=p.get("listing"))


def listing_ended(session: Session, event: Event) -> None:
    p = event.payload
    package = session.get(AssetPackage, int(p["package_id"])) if p.get("package_id") is not None else None
    if package is not None and package.status == "offered_market":
        package.status = "draft"
        audit(session, SYSTEM, "back_from_market", "coop_package", package.id, listing=p.get("listing"),
              state=p.get("state"))


HANDLERS = (EventHandler(TRADE_SETTLED, trade_settled, name="cooperatives.trade_settled"),
            EventHandler(LISTING_ENDED, listing_ended, name="cooperatives.listing_ended"))
