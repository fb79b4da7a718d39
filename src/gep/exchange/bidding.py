"""Registration and bidding: a bidder registers with a deposit held in escrow; bids are checked against the
listing's mode under the listing's row lock and numbered in the order accepted; the close (a timer) awards by
the mode's rule and releases the losers' deposits. Closing twice, or by two workers at once, closes once."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gep.errors import N_, Conflict, InputError, PermissionDenied, Word
from gep.exchange import categories, deals, listings, perms, rules, store
from gep.exchange.models import Bid, Deal, Listing, Registration
from gep.kit.audit import aware, now
from gep.kit.notify import notify
from gep.kit.principal import Principal
from gep.ledger import rules as ledger_rules
from gep.ledger import service as ledger
from gep.registry import rules as registry_rules
from gep.registry import service as registry


def register(session: Session, listing_id: int, by: Principal) -> Registration:
    """Register as a bidder: the deposit is held from the bidder's funds into escrow (refused if they do not
    hold enough). Registering again returns the registration."""
    by.require(perms.TRADE)
    listing = store.lock_listing(session, listing_id)
    if store.is_seller(listing, by):
        raise PermissionDenied(N_("the seller may not bid on their own listing"))
    done = store.registration_of(session, listing.id, by)
    if done is not None and done.state == "active":
        return done
    if done is not None:
        raise Conflict(N_("your registration for listing {code} has ended"), code=listing.code)
    listings.open_if_due(session, listing, by)
    if listing.state not in rules.REGISTERING or (listing.closes_at and aware(listing.closes_at) <= now()):
        raise Conflict(N_("listing {code} takes no registrations now: it is {state}"), code=listing.code,
                       state=Word(rules.STATES[listing.state]))
    account = ledger.funds_of_caller(session, by)
    listing.registrations += 1
    reg = Registration(listing_id=listing.id, bidder_key=store.bidder_key(by), bidder_org_id=by.organisation_id,
                       bidder_user_id=None if by.organisation_id is not None else by.user_id,
                       bidder_name=by.party_name, alias=listing.registrations, account_id=account.id, hold_id=None,
                       state="active", created_by=by.user_id, created_at=now())
    session.add(reg)
    session.flush()
    if listing.deposit_fen > 0:
        escrow = ledger.platform_account(session, "escrow")
        hold = ledger.hold(session, account, escrow, listing.deposit_fen, "deposit", key=f"deposit:{reg.id}", by=by,
                           memo=listing.code, ref=("exchange_registration", str(reg.id)))
        reg.hold_id = hold.id
    store.record(session, listing, "register", listing.state, listing.state, by, registration=reg.id,
                 deposit_fen=listing.deposit_fen)
    return reg


def _frozen(session: Session, listing: Listing) -> None:
    """Refuse bids while the right carries any lock but the exchange's own (a court's freeze)."""
    if listing.right_id is None:
        return
    for lock in registry.locks_of(session, [listing.right_id]).get(listing.right_id, []):
        if lock.id != listing.lock_id:
            raise Conflict(N_("right {id} is locked ({kind}, by {holder}): bidding on listing {code} is suspended"),
                           id=listing.right_id, kind=Word(registry_rules.LOCK_KINDS.get(lock.kind, lock.kind)),
                           holder=lock.holder, code=listing.code)


def _bids_for_check(session: Session, listing: Listing, reg: Registration) -> list[Bid]:
    """What a bid is checked against, in one query: the bidder's own bids and the listing's last, in order."""
    mine_or_last = Bid.registration_id == reg.id
    if listing.bid_count:
        mine_or_last = or_(mine_or_last, Bid.seq == listing.bid_count)
    return list(session.scalars(select(Bid).where(Bid.listing_id == listing.id, mine_or_last).order_by(Bid.seq)))


def place_bid(session: Session, listing_id: int, price_fen: int, quantity: int, by: Principal,
              key: str | None = None) -> tuple[Bid, bool]:
    """Place a bid; returns it and whether it is a replay (the same key again: the first bid, nothing new).

    Little happens under the listing's lock, which every bid on it waits for: the registration is read before
    (the close and a withdrawal, which end it, also change the listing's state, checked under the lock), and the
    replay, the bidder's own bids and the last bid are one query."""
    by.require(perms.TRADE)
    key = key or uuid.uuid4().hex
    reg = store.registration_of(session, listing_id, by)
    listing = store.lock_listing(session, listing_id)
    if store.is_seller(listing, by):
        raise PermissionDenied(N_("the seller may not bid on their own listing"))
    before = _bids_for_check(session, listing, reg) if reg is not None else []
    replay = next((b for b in before if b.registration_id == getattr(reg, "id", None) and b.key == key), None)
    if replay is not None:
        return replay, True
    if reg is None or reg.state != "active" or (listing.deposit_fen > 0 and reg.hold_id is None):
        raise Conflict(N_("register for listing {code} and pay its deposit before bidding"), code=listing.code)
    at = now()
    listings.open_if_due(session, listing, by, at)
    if listing.state != "bidding":
        raise Conflict(N_("listing {code} takes no bids now: it is {state}"), code=listing.code,
                       state=Word(rules.STATES[listing.state]))
    _frozen(session, listing)
    assert listing.closes_at is not None
    closes = aware(listing.closes_at)
    accepted = rules.check_bid(listings.terms_of(listing),
                               [rules.BidRec(b.seq, b.registration_id, b.price_fen, b.quantity) for b in before],
                               reg.id, price_fen, quantity, at, closes)
    seq = listing.bid_count + 1
    bid = Bid(listing_id=listing.id, registration_id=reg.id, seq=seq, price_fen=price_fen, quantity=quantity, key=key,
              placed_by=by.user_id, placed_at=at)
    session.add(bid)
    previous_leader = listing.leader_registration_id
    listing.bid_count, listing.updated_at = seq, at
    if listing.mode == "ascending":
        listing.current_price_fen, listing.leader_registration_id = price_fen, reg.id
    if accepted.closes_at != closes:
        listing.closes_at = accepted.closes_at
        store.schedule_close(session, listing)
    session.flush()
    if listing.mode == "ascending" and previous_leader not in (None, reg.id):
        outbid = session.get(Registration, previous_leader)
        if outbid is not None and outbid.created_by is not None:
            notify(session, outbid.created_by, N_("You were outbid on {code}: the price is now {price} yuan"),
                   link=f"/exchange/listings/{listing.id}", kind="exchange", code=listing.code,
                   price=str(ledger_rules.to_yuan(price_fen)))
    return bid, False


def accept_offer(session: Session, listing_id: int, bid_id: int, by: Principal) -> list[Deal]:
    """Negotiated transfer: the seller accepts one buyer's offer; it is awarded at once."""
    listing = store.lock_listing(session, listing_id)
    store.require_seller(listing, by)
    if listing.mode != "negotiated":
        raise Conflict(N_("only a negotiated listing is awarded by accepting an offer"))
    listings.open_if_due(session, listing, by)
    if listing.state != "bidding":
        raise Conflict(N_("listing {code} takes no bids now: it is {state}"), code=listing.code,
                       state=Word(rules.STATES[listing.state]))
    bid = session.get(Bid, bid_id)
    if bid is None or bid.listing_id != listing.id:
        raise InputError(N_("offer {id} was not made on listing {code}"), id=bid_id, code=listing.code)
    latest = session.scalar(select(Bid.id).where(Bid.registration_id == bid.registration_id)
                            .order_by(Bid.seq.desc()).limit(1))
    if latest != bid.id:
        raise Conflict(N_("offer {id} was replaced by a higher one from the same buyer"), id=bid_id)
    return _award(session, listing, [rules.Win(bid.registration_id, bid.price_fen, bid.quantity)], by)


def close(session: Session, listing_id: int, by: Principal | None = None, at: datetime | None = None) -> str:
    """Close a listing's bidding if it is due: award by the mode's rule, or fail. Idempotent: a listing that is
    no longer bidding, or whose close was moved later, is left alone. Returns what happened."""
    at = at or now()
    listing = store.lock_listing(session, listing_id)
    listings.open_if_due(session, listing, by, at)
    if listing.state != "bidding":
        return "not bidding"
    if listing.closes_at is None:
        return "not due"
    if aware(listing.closes_at) > at:  # extended, or this machine's clock is behind: look again at the close
        store.schedule_close(session, listing, again=True)
        return "not due"
    bids = [rules.BidRec(b.seq, b.registration_id, b.price_fen, b.quantity) for b in
            session.scalars(select(Bid).where(Bid.listing_id == listing.id).order_by(Bid.seq))]
    wins = rules.outcome(listings.terms_of(listing), bids)
    listing.closed_at = at
    if wins:
        _award(session, listing, wins, by)
        return "awarded"
    reason = (N_("no offer was accepted") if listing.mode == "negotiated" else
              N_("no bid") if not bids else N_("the reserve price was not met"))
    listing.state, listing.reason, listing.updated_at = rules.listing_step("bidding", "fail"), reason, at
    listings.release_deposits(session, listing, by, keep=())
    listings.unlock(session, listing, by)
    store.record(session, listing, "fail", "bidding", "failed", by, reason=reason, bids=len(bids))
    listings.tell_seller(session, listing, N_("Listing {code} closed without a sale: {reason}"), reason=reason)
    listings.ended(session, listing)
    return "failed"


def _award(session: Session, listing: Listing, wins: list[rules.Win], by: Principal | None) -> list[Deal]:
    at = now()
    category = categories.get(session, listing.category_code)
    made = []
    for i, win in enumerate(wins, start=1):
        reg = session.get(Registration, win.bidder)
        assert reg is not None
        total = win.total
        deal = Deal(listing_id=listing.id, registration_id=reg.id, contract_no=f"HT{listing.code[2:]}-{i:02d}",
                    price_fen=win.price, quantity=win.quantity, total_fen=total,
                    fee_fen=rules.pct_of(total, Decimal(category.fee_pct)), state="awarded", awarded_at=at,
                    contract_due=deals.after(at, category.contract_s), certificate_serial="", reason="")
        session.add(deal)
        session.flush()
        reg.state = "won"
        store.schedule_deadline(session, deal, "sign", deal.contract_due)
        made.append(deal)
        if reg.created_by is not None:
            notify(session, reg.created_by, N_("You won {code}: sign the contract by {due}"),
                   link=f"/exchange/listings/{listing.id}", kind="exchange", code=listing.code,
                   due=deal.contract_due.isoformat(timespec="minutes"))
    listing.closed_at = listing.closed_at or at
    listing.state, listing.updated_at = rules.listing_step("bidding", "award"), at
    released = listings.release_deposits(session, listing, by, keep=tuple(w.bidder for w in wins))
    store.record(session, listing, "award", "bidding", "awarded", by, deals=[d.id for d in made],
                 total_fen=sum(d.total_fen for d in made), released=released)
    listings.tell_seller(session, listing, N_("Listing {code} was awarded"))
    return made
