"""Loading, locking and recording what the exchange's use cases share: a listing under a row lock (so bids,
closes and deadlines on one listing happen one at a time), its history, its timers, who a caller bids as."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gep.db import found, is_postgresql
from gep.errors import N_, NotFound, PermissionDenied
from gep.exchange import perms
from gep.exchange.models import Deal, Listing, ListingEvent, Registration
from gep.kit import tasks
from gep.kit.audit import audit, now
from gep.kit.principal import Principal

OPEN, CLOSE, DEADLINE = "exchange.open", "exchange.close", "exchange.deadline"


def get_listing(session: Session, listing_id: int) -> Listing:
    """A listing the caller may see, or NotFound."""
    return found(session, Listing, listing_id, N_("listing {id} does not exist"))


def lock_listing(session: Session, listing_id: int) -> Listing:
    """The listing, locked for the rest of the transaction and read fresh (a bid, the close and a deadline on
    one listing are serialised by this lock; on SQLite, a write first takes the database's single write lock)."""
    if not is_postgresql(session):
        session.execute(update(Listing).where(Listing.id == listing_id).values(bid_count=Listing.bid_count)
                        .execution_options(synchronize_session=False))
    row = session.scalar(select(Listing).where(Listing.id == listing_id).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound(N_("listing {id} does not exist"), id=listing_id)
    return row


def get_deal(session: Session, deal_id: int) -> Deal:
    return found(session, Deal, deal_id, N_("trade {id} does not exist"))


def deals_of(session: Session, listing_id: int) -> list[Deal]:
    return list(session.scalars(select(Deal).where(Deal.listing_id == listing_id).order_by(Deal.id)))


def bidder_key(by: Principal) -> str:
    """Who bids: an organisation (any of its members acts for it), or a person without one."""
    return f"org:{by.organisation_id}" if by.organisation_id is not None else f"user:{by.user_id}"


def registration_of(session: Session, listing_id: int, by: Principal) -> Registration | None:
    return session.scalar(select(Registration).where(Registration.listing_id == listing_id,
                                                     Registration.bidder_key == bidder_key(by)))


def is_seller(listing: Listing, by: Principal) -> bool:
    if listing.seller_org_id is not None:
        return by.organisation_id == listing.seller_org_id
    return by.user_id is not None and by.user_id == listing.seller_user_id


def is_buyer(registration: Registration, by: Principal) -> bool:
    return registration.bidder_key == bidder_key(by)


def require_seller(listing: Listing, by: Principal) -> None:
    if not (is_seller(listing, by) or by.can(perms.REVIEW)):
        raise PermissionDenied(N_("only the seller (or the exchange's staff) may do this to listing {code}"),
                               code=listing.code)


def record(session: Session, listing: Listing, verb: str, before: str, after: str, by: Principal | None,
           deal: Deal | None = None, **detail: Any) -> None:
    """A move of the listing (or of one of its deals) in its history and in the audit log."""
    session.add(ListingEvent(listing_id=listing.id, deal_id=deal.id if deal else None, verb=verb, from_state=before,
                             to_state=after, by_user_id=by.user_id if by else None, detail=detail, at=now()))
    audit(session, by, verb, "exchange_deal" if deal else "exchange_listing", deal.id if deal else listing.id,
          listing=listing.code, before=before, after=after, **detail)


def _again() -> str:
    """A key suffix for a timer that fired before its time (another machine's clock) and looks again later."""
    return f":again{int(now().timestamp() * 1000)}"


def schedule_open(session: Session, listing: Listing, again: bool = False) -> None:
    assert listing.opens_at is not None
    tasks.schedule(session, OPEN, at=listing.opens_at, payload={"listing_id": listing.id},
                   key=f"exchange:open:{listing.id}" + (_again() if again else ""))


def schedule_close(session: Session, listing: Listing, again: bool = False) -> None:
    """A timer at the listing's close; an extension schedules another at the new time (each close time has its
    own timer: one that fires early finds the close moved, and only looks again at the new time)."""
    assert listing.closes_at is not None
    tasks.schedule(session, CLOSE, at=listing.closes_at, payload={"listing_id": listing.id},
                   key=f"exchange:close:{listing.id}:{int(listing.closes_at.timestamp() * 1000)}"
                   + (_again() if again else ""))


def schedule_deadline(session: Session, deal: Deal, step: str, at: datetime, again: bool = False) -> None:
    tasks.schedule(session, DEADLINE, at=at, payload={"deal_id": deal.id, "step": step},
                   key=f"exchange:deadline:{deal.id}:{step}" + (_again() if again else ""))


def cancel_timers(session: Session, listing: Listing) -> None:
    tasks.cancel(session, f"exchange:open:{listing.id}")
    if listing.closes_at is not None:
        tasks.cancel(session, f"exchange:close:{listing.id}:{int(listing.closes_at.timestamp() * 1000)}")
