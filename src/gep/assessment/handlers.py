"""What the assessment hears from other domains: each trade settled on the exchange counts for its county's
trading indicators (count and amount) in the year it settled."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gep.assessment import service
from gep.kit.domain import EventHandler
from gep.kit.events import Event

TRADE_SETTLED = "exchange.trade_settled"


def trade_settled(session: Session, event: Event) -> None:
    p = event.payload
    if p.get("deal_id") is None:
        return
    service.record_trade(session, int(p["deal_id"]), str(p.get("listing") or ""), str(p.get("county_code") or ""),
                         str(p.get("settled_on") or ""), int(p.get("price_fen") or p.get("total_fen") or 0),
                         str(p.get("category_code") or ""))


HANDLERS = (EventHandler(TRADE_SETTLED, trade_settled, name="assessment.trade_settled"),)
