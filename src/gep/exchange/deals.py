"""After the award: the winner signs the contract and pays by their deadlines; payment settles the money through
escrow in one balanced batch, passes the title in the registry (or tells the cooperative), and issues the signed
certificate. A winner who misses a deadline defaults: the deposit is forfeited (timers fire the deadlines)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gep.certificates import service as certificates
from gep.certificates.keys import Signer
from gep.errors import N_, Conflict, PermissionDenied
from gep.exchange import categories, listings, perms, rules, store
from gep.exchange.models import Deal, Listing, Registration
from gep.kit import events
from gep.kit.audit import aware, now
from gep.kit.i18n import Catalogues
from gep.kit.notify import notify
from gep.kit.principal import SYSTEM, Principal
from gep.ledger import rules as ledger_rules
from gep.ledger import service as ledger
from gep.ledger.models import LedgerTransfer
from gep.registry import service as registry

SETTLED = "exchange.trade_settled"  # outbox: a trade was paid (a cooperative's package earns its revenue)
DEFAULTED = "exchange.trade_defaulted"  # outbox: a winner missed a deadline (ecological credit counts it)
WORDS = Catalogues((Path(__file__).resolve().parent,))
CHINA = timezone(timedelta(hours=8))


def after(at: datetime, seconds: int) -> datetime:
    return at + timedelta(seconds=seconds)


def _parts(session: Session, deal_id: int) -> tuple[Listing, Deal, Registration]:
    """The deal's listing (locked first: deals of one listing change one at a time), the deal, the winner."""
    deal = store.get_deal(session, deal_id)
    listing = store.lock_listing(session, deal.listing_id)
    session.refresh(deal)
    reg = session.get(Registration, deal.registration_id)
    assert reg is not None
    return listing, deal, reg


def _move(session: Session, listing: Listing, deal: Deal, verb: str, by: Principal | None, **detail: Any) -> None:
    before = deal.state
    deal.state = rules.deal_step(deal.state, verb)
    store.record(session, listing, verb, before, deal.state, by, deal=deal, **detail)
    _follow(session, listing, by)


def _follow(session: Session, listing: Listing, by: Principal | None) -> None:
    """The listing's state after its deals moved; a listing that ends without a trade frees its right."""
    before = listing.state
    listing.state = rules.listing_state(d.state for d in store.deals_of(session, listing.id))
    listing.updated_at = now()
    if listing.state == "defaulted" and before != "defaulted":
        listings.unlock(session, listing, by)
    if listing.state in rules.FINAL and before not in rules.FINAL:
        listings.ended(session, listing)


def _require_buyer(reg: Registration, by: Principal) -> None:
    if not store.is_buyer(reg, by):
        raise PermissionDenied(N_("only the winning bidder may do this"))


def sign(session: Session, deal_id: int, by: Principal) -> Deal:
    """The winner signs the contract (on the listing's terms) before its deadline; payment is due next."""
    by.require(perms.TRADE)
    listing, deal, reg = _parts(session, deal_id)
    _require_buyer(reg, by)
    if deal.state == "awarded" and aware(deal.contract_due) <= now():
        raise Conflict(N_("the deadline to sign contract {no} passed at {due}"), no=deal.contract_no,
                       due=deal.contract_due.isoformat(timespec="minutes"))
    category = categories.get(session, listing.category_code)
    at = now()
    deal.signed_at, deal.settle_due = at, after(at, category.settle_s)
    _move(session, listing, deal, "sign", by, contract=deal.contract_no)
    store.schedule_deadline(session, deal, "settle", deal.settle_due)
    listings.tell_seller(session, listing, N_("Contract {no} for {code} was signed"), no=deal.contract_no)
    return deal


def settle(session: Session, deal_id: int, by: Principal, signer: Signer) -> Deal:
    """The winner pays: the deposit becomes part of the price, the rest comes from their funds, escrow pays
    the seller (less the fee) — one batch, all or nothing. Then the title passes and the certificate is issued."""
    by.require(perms.TRADE)
    listing, deal, reg = _parts(session, deal_id)
    _require_buyer(reg, by)
    if deal.state == "contract_signed" and deal.settle_due is not None and aware(deal.settle_due) <= now():
        raise Conflict(N_("the deadline to pay for contract {no} passed at {due}"), no=deal.contract_no,
                       due=deal.settle_due.isoformat(timespec="minutes"))
    rules.deal_step(deal.state, "settle")  # refuse before any money moves
    escrow = ledger.platform_account(session, "escrow")
    moves = []
    paid_by_deposit = 0
    if reg.hold_id is not None and ledger.hold_open(session, reg.hold_id):
        hold = session.get(LedgerTransfer, reg.hold_id)
        assert hold is not None
        paid_by_deposit = min(hold.amount, deal.total_fen)
        moves.append(ledger.Move(reg.account_id, escrow.id, paid_by_deposit, "price", ledger_rules.POST, reg.hold_id,
                                 memo=deal.contract_no, ref=("exchange_deal", str(deal.id))))
    if deal.total_fen > paid_by_deposit:
        moves.append(ledger.Move(reg.account_id, escrow.id, deal.total_fen - paid_by_deposit, "price",
                                 memo=deal.contract_no, ref=("exchange_deal", str(deal.id))))
    moves.append(ledger.Move(escrow.id, listing.seller_account_id, deal.total_fen - deal.fee_fen, "proceeds",
                             memo=deal.contract_no, ref=("exchange_deal", str(deal.id))))
    if deal.fee_fen:
        fees = ledger.platform_account(session, "fees")
        moves.append(ledger.Move(escrow.id, fees.id, deal.fee_fen, "fee", memo=deal.contract_no,
                                 ref=("exchange_deal", str(deal.id))))
    ledger.post(session, moves, key=f"settle:{deal.id}", by=by)
    reg.state = "applied"
    deal.settled_at = now()
    _move(session, listing, deal, "settle", by, total_fen=deal.total_fen, deposit_applied_fen=paid_by_deposit,
          fee_fen=deal.fee_fen)
    events.record(session, SETTLED, actor_id=by.user_id, listing=listing.code, deal_id=deal.id,
                  package_id=listing.package_id, seller_org_id=listing.seller_org_id, total_fen=deal.total_fen,
                  units_ref=listing.units_ref, quantity=listings.units_of(listing, deal),
                  collateral_ref=listing.collateral_ref, price_fen=deal.total_fen - deal.fee_fen,
                  buyer_org_id=reg.bidder_org_id, buyer_user_id=reg.bidder_user_id, buyer_name=reg.bidder_name,
                  fee_fen=deal.fee_fen, settled_on=deal.settled_at.date().isoformat(),
                  county_code=listing.county_code, category_code=listing.category_code)
    transfer_title(session, listing, deal, reg, by)
    certify(session, listing, deal, reg, signer, by)
    return deal


def transfer_title(session: Session, listing: Listing, deal: Deal, reg: Registration, by: Principal) -> None:
    """Pass what was sold: a registered right goes to the buyer in the registry (the trade lock released
    first); a package passes under the cooperative's contracts (told by the settlement event); units and
    services need no registry entry."""
    detail: dict[str, Any] = {}
    if listing.right_id is not None:
        listings.unlock(session, listing, by)
        right = registry.get_right(session, listing.right_id)
        parcel = registry.get_parcel(session, right.parcel_id)
        holder = registry.find_or_add_holder(
            session, parcel.region_id, "organisation" if reg.bidder_org_id is not None else "person", reg.bidder_name,
            user_id=reg.bidder_user_id, organisation_id=reg.bidder_org_id)
        registry.transfer(session, right.id, holder.id, by, document=deal.contract_no, authorised=True)
        detail = {"right_id": right.id, "to_holder_id": holder.id}
    deal.title_at = now()
    _move(session, listing, deal, "transfer_title", by, **detail)


def certify(session: Session, listing: Listing, deal: Deal, reg: Registration, signer: Signer,
            by: Principal | None) -> None:
    category = categories.get(session, listing.category_code)
    cert = certificates.issue(session, signer, "exchange_trade", f"exchange_deal:{deal.id}",
                              f"{category.name_zh} · {listing.title}", certificate_payload(session, listing, deal, reg),
                              party_user_ids=[u for u in (listing.created_by, reg.created_by) if u is not None],
                              party_org_ids=[o for o in (listing.seller_org_id, reg.bidder_org_id) if o is not None],
                              by=by)
    deal.certificate_serial = cert.serial
    _move(session, listing, deal, "certify", by, serial=cert.serial)
    for user in {listing.created_by, reg.created_by} - {None}:
        assert user is not None
        notify(session, user, N_("Certificate {serial} was issued for {code}"), link=f"/certificates/{cert.serial}",
               kind="exchange", serial=cert.serial, code=listing.code)


def beijing(at: datetime) -> str:
    """A moment as a certificate states it: China Standard Time, to the second."""
    return aware(at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


def _yuan(fen: int) -> str:
    return f"¥{ledger_rules.to_yuan(fen):,.2f}"


def certificate_payload(session: Session, listing: Listing, deal: Deal, reg: Registration) -> dict[str, Any]:
    """What a trade's certificate states: lines for people (Chinese and English labels) and fields for machines."""
    category = categories.get(session, listing.category_code)
    zh_words = WORDS.words("zh")
    mode = rules.MODES[listing.mode]
    price = _yuan(deal.total_fen) if listing.mode != "multi_unit" else \
        f"{_yuan(deal.total_fen)} ({_yuan(deal.price_fen)} × {deal.quantity} {listing.unit})"
    lines = [("交易编号", "Listing", listing.code), ("合同编号", "Contract", deal.contract_no),
             ("交易品种", "Category", f"{category.name_zh} / {category.name_en}"),
             ("交易标的", "Object", listing.title),
             ("出让方", "Seller", listing.seller_name), ("受让方", "Buyer", reg.bidder_name),
             ("交易方式", "Trading mode", f"{zh_words.get(mode, mode)} / {mode}"), ("成交价款", "Price", price)]
    if listing.area_mu is not None:
        lines.append(("面积（亩）", "Area (mu)", f"{Decimal(listing.area_mu):,.2f}"))
    if listing.term_years:
        lines.append(("期限（年）", "Term (years)", str(listing.term_years)))
    if listing.right_id is not None:
        right = registry.get_right(session, listing.right_id)
        parcel = registry.get_parcel(session, right.parcel_id)
        lines.append(("权利", "Right", f"{parcel.code} · {right.certificate_no or right.id}"))
    basis = listing.gep_basis or {}
    if basis:
        lines.append(("GEP 依据", "GEP basis", basis.get("summary", "")))
    lines += [("成交时间", "Awarded", beijing(deal.awarded_at)),
              ("付款时间", "Paid", beijing(deal.settled_at) if deal.settled_at else "")]
    return {"lines": [{"zh": a, "en": b, "value": v} for a, b, v in lines],
            "listing": listing.code, "contract": deal.contract_no, "category": category.code,
            "seller": listing.seller_name, "buyer": reg.bidder_name, "total_fen": deal.total_fen,
            "price_fen": deal.price_fen, "quantity": deal.quantity, "unit": listing.unit,
            "right_id": listing.right_id, "gep_basis": basis}


def default_if_due(session: Session, deal_id: int, step: str, at: datetime | None = None) -> str:
    """A deadline's timer: if the winner has not signed (or paid) by now, the deal defaults and the deposit is
    forfeited to the platform. Idempotent: a deal that moved on is left alone."""
    at = at or now()
    listing, deal, reg = _parts(session, deal_id)
    expected, due = ("awarded", deal.contract_due) if step == "sign" else ("contract_signed", deal.settle_due)
    if deal.state != expected:
        return "moved on"
    if due is None:
        return "not due"
    if aware(due) > at:  # fired before its time (another machine's clock, a moved deadline): look again then
        store.schedule_deadline(session, deal, step, aware(due), again=True)
        return "not due"
    forfeited = 0
    if reg.hold_id is not None and ledger.hold_open(session, reg.hold_id):
        hold = session.get(LedgerTransfer, reg.hold_id)
        assert hold is not None
        escrow, forfeits = ledger.platform_account(session, "escrow"), ledger.platform_account(session, "forfeits")
        ledger.post(session, [
            ledger.Move(reg.account_id, escrow.id, hold.amount, "forfeit", ledger_rules.POST, reg.hold_id,
                        memo=deal.contract_no, ref=("exchange_deal", str(deal.id))),
            ledger.Move(escrow.id, forfeits.id, hold.amount, "forfeit", memo=deal.contract_no,
                        ref=("exchange_deal", str(deal.id)))], key=f"forfeit:{deal.id}", by=SYSTEM)
        forfeited = hold.amount
    reg.state = "forfeited"
    deal.defaulted_at = at
    deal.reason = N_("the contract was not signed in time") if step == "sign" else N_("the price was not paid in time")
    _move(session, listing, deal, "default", SYSTEM, step=step, forfeited_fen=forfeited)
    events.record(session, DEFAULTED, listing=listing.code, deal_id=deal.id, contract_no=deal.contract_no, step=step,
                  buyer_org_id=reg.bidder_org_id, buyer_user_id=reg.bidder_user_id, buyer_name=reg.bidder_name,
                  on=at.date().isoformat())
    if reg.created_by is not None:
        notify(session, reg.created_by, N_("Trade {no} defaulted: {reason}; the deposit is forfeited"),
               link=f"/exchange/listings/{listing.id}", kind="exchange", no=deal.contract_no, reason=deal.reason)
    listings.tell_seller(session, listing, N_("Trade {no} defaulted: {reason}; the deposit is forfeited"),
                         no=deal.contract_no, reason=deal.reason)
    return "defaulted"
