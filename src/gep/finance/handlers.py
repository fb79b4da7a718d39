"""What green finance does after other domains' events: a pledged right sold on the exchange repays its loan;
one whose listing ended unsold is pledged again; a sale settled on a brand batch's trace chain is the seller's
settled turnover (what a trade-flow credit line, 茶商E贷, is sized from). All idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gep.finance import service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

TRADE_SETTLED = "exchange.trade_settled"
LISTING_ENDED = "exchange.listing_ended"
SALE_SETTLED = "brands.sale_settled"


def trade_settled(session: Session, event: Event) -> None:
    p = event.payload
    ref = str(p.get("collateral_ref") or "")
    if ref.startswith(service.COLLATERAL_REF):
        service.sold(session, ref, int(p.get("price_fen") or 0), str(p.get("listing") or ""))


def listing_ended(session: Session, event: Event) -> None:
    p = event.payload
    ref = str(p.get("collateral_ref") or "")
    if ref.startswith(service.COLLATERAL_REF) and p.get("state") != "certificate_issued":
        service.unsold(session, ref)


def sale_settled(session: Session, event: Event) -> None:
    p = event.payload
    service.record_trace_settlement(session, p.get("holder_id"), p.get("organisation_id"), str(p.get("on") or ""),
                                    int(p.get("amount_fen") or 0), str(p.get("buyer") or ""),
                                    str(p.get("reference") or ""), bool(p.get("synthetic")))


HANDLERS = (EventHandler(TRADE_SETTLED, trade_settled, name="finance.trade_settled"),
            EventHandler(LISTING_ENDED, listing_ended, name="finance.listing_ended"),
            EventHandler(SALE_SETTLED, sale_settled, name="finance.sale_settled"))
