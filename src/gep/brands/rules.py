"""Pure rules of the regional brand and its traceability: the standards (from ``data/brand.toml``), the states of
a certification and what moves it, an inspection's verdict against its limits, what a batch's next step may be,
and the hash chain of trace records — how a record's hash is made and how a chain is checked.

The chain: each record's hash is the SHA-256 of the canonical JSON of (batch, seq, kind, at, payload, prev), where
prev is the hash before it (64 zeros for the first); the platform signs the hash with its Ed25519 key, and signs
the chain's head (length and last hash) after every append. Whoever holds the public key can then tell a changed
value (the hash no longer matches), a changed order or a deleted record (the links break), an inserted record (no
valid signature) and a dropped last record (the signed head names a longer chain).
"""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gep.errors import N_, Conflict, InputError

DATA = Path(__file__).resolve().parent / "data" / "brand.toml"
GENESIS = "0" * 64

# -- the brand's standards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    code: str
    name_zh: str
    name_en: str
    unit: str
    standard: str
    max: float | None = None
    min: float | None = None

    def passes(self, value: float) -> bool:
        return (self.max is None or value <= self.max) and (self.min is None or value >= self.min)

    def limit_text(self) -> str:
        parts = [f"≤ {self.max:g}" if self.max is not None else "", f"≥ {self.min:g}" if self.min is not None else ""]
        return " ".join(p for p in parts if p) + f" {self.unit}"


@dataclass(frozen=True)
class Category:
    code: str
    name_zh: str
    name_en: str
    unit: str
    requirements_zh: tuple[str, ...]
    requirements_en: tuple[str, ...]
    inspection: tuple[Item, ...]


@dataclass(frozen=True)
class Brand:
    code: str
    name_zh: str
    name_en: str
    founded: int
    owner_zh: str
    certificate_months: int
    scan_warning: int
    categories: dict[str, Category] = field(default_factory=dict)
    digest: str = ""


@lru_cache(maxsize=1)
def brand() -> Brand:
    raw = DATA.read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    head = data["brand"]
    categories = {}
    for c in data["categories"]:
        items = tuple(Item(i["code"], i["name_zh"], i["name_en"], i["unit"], i["standard"], i.get("max"), i.get("min"))
                      for i in c["inspection"])
        categories[c["code"]] = Category(c["code"], c["name_zh"], c["name_en"], c["unit"],
                                         tuple(c["requirements_zh"]), tuple(c["requirements_en"]), items)
    return Brand(head["code"], head["name_zh"], head["name_en"], int(head["founded"]), head["owner_zh"],
                 int(head["certificate_months"]), int(head["scan_warning"]), categories,
                 hashlib.sha256(raw).hexdigest())


def category(code: str) -> Category:
    found = brand().categories.get(code)
    if found is None:
        raise InputError(N_("unknown product category {value}; expected one of {expected}"), value=code,
                         expected=", ".join(brand().categories))
    return found


# -- certification --------------------------------------------------------------------------------------------------

SUBMITTED, INSPECTING, CERTIFIED, REJECTED, SUSPENDED, REVOKED, EXPIRED = (
    "submitted", "inspecting", "certified", "rejected", "suspended", "revoked", "expired")
STATES = {SUBMITTED: N_("submitted"), INSPECTING: N_("being inspected"), CERTIFIED: N_("certified"),
          REJECTED: N_("rejected"), SUSPENDED: N_("suspended"), REVOKED: N_("revoked"), EXPIRED: N_("expired")}
# action -> (states it may start from, the state it leads to)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "inspect": (frozenset({SUBMITTED}), INSPECTING),
    "certify": (frozenset({INSPECTING}), CERTIFIED),
    "reject": (frozenset({SUBMITTED, INSPECTING}), REJECTED),
    "suspend": (frozenset({CERTIFIED}), SUSPENDED),
    "reinstate": (frozenset({SUSPENDED}), CERTIFIED),
    "revoke": (frozenset({CERTIFIED, SUSPENDED}), REVOKED),
}
NEEDS_REASON = frozenset({"reject", "suspend", "revoke", "reinstate"})


def state_on(state: str, valid_until: date | None, today: date) -> str:
    """The state as of `today`: a certificate past its end has expired, whatever is stored."""
    if state in (CERTIFIED, SUSPENDED) and valid_until is not None and today > valid_until:
        return EXPIRED
    return state


def next_state(state: str, action: str, reason: str = "", passed: bool | None = None) -> str:
    """The state an action leads to, or a Conflict naming what the state allows."""
    if action not in ACTIONS:
        raise InputError(N_("unknown action {value}; expected one of {expected}"), value=action,
                         expected=", ".join(ACTIONS))
    starts, to = ACTIONS[action]
    if state not in starts:
        allowed = [a for a, (s, _) in ACTIONS.items() if state in s]
        raise Conflict(N_("an application that is {state} cannot be {action}ed; it allows: {allowed}"),
                       state=state, action=action, allowed=", ".join(allowed) or "—")
    if action in NEEDS_REASON and not reason.strip():
        raise InputError(N_("{action} needs a reason"), action=action)
    if action == "certify" and passed is not True:
        raise Conflict(N_("certification needs a passed inspection of every item of the category's standard"))
    return to


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Verdict:
    passed: bool
    failed: tuple[str, ...]
    missing: tuple[str, ...]


def judge(cat: Category, results: dict[str, Any]) -> Verdict:
    """An inspection's verdict: every item of the standard measured, and within its limit."""
    unknown = sorted(set(results) - {i.code for i in cat.inspection})
    if unknown:
        raise InputError(N_("{items} are not inspection items of {category}; expected {expected}"),
                         items=", ".join(unknown), category=cat.code,
                         expected=", ".join(i.code for i in cat.inspection))
    failed, missing = [], []
    for item in cat.inspection:
        raw = results.get(item.code)
        if raw is None or str(raw).strip() == "":
            missing.append(item.code)
            continue
        value = number(raw, item.code)
        if value < 0:
            raise InputError(N_("{item}: a measured value is not negative ({value})"), item=item.code, value=raw)
        if not item.passes(value):
            failed.append(item.code)
    return Verdict(not failed and not missing, tuple(failed), tuple(missing))


def number(raw: Any, what: str) -> float:
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise InputError(N_("{item}: a number is expected, not “{value}”"), item=what, value=str(raw)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputError(N_("{item}: a number is expected, not “{value}”"), item=what, value=str(raw))
    return value


# -- a batch's steps ------------------------------------------------------------------------------------------------

STEPS = {"harvest": N_("harvest"), "processing": N_("processing"), "inspection": N_("inspection"),
         "sale": N_("sale"), "settlement": N_("settlement")}
# what each step's payload holds beyond the recorder (always added by the service)
FIELDS = {"harvest": ("on", "quantity", "parcel"), "processing": ("on", "process", "output"),
          "inspection": ("on", "results", "passed"), "sale": ("on", "buyer", "quantity", "unit_price_yuan"),
          "settlement": ("on", "sale", "amount_yuan")}


def decimal(raw: Any, what: str, positive: bool = True) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        value = Decimal("NaN")
    if not value.is_finite() or (positive and value <= 0) or value > Decimal("1e9"):
        raise InputError(N_("{item}: a number above 0 is expected, not “{value}”"), item=what, value=str(raw))
    return value


@dataclass
class BatchState:
    """What the chain so far says of a batch: how much is left to sell, which sales are settled."""

    quantity: Decimal
    sold: Decimal = Decimal(0)
    sales: dict[int, Decimal] = field(default_factory=dict)  # sale's seq -> amount in yuan
    settled: dict[int, Decimal] = field(default_factory=dict)
    harvests: set[int] = field(default_factory=set)  # harvests' seq: the producer pays the grower against them
    kinds: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.sold


def replay(quantity: Decimal, records: list[tuple[int, str, dict[str, Any]]]) -> BatchState:
    state = BatchState(quantity)
    for seq, kind, payload in records:
        state.kinds.append(kind)
        if kind == "harvest":
            state.harvests.add(seq)
        elif kind == "sale":
            q = Decimal(str(payload["quantity"]))
            state.sold += q
            state.sales[seq] = (q * Decimal(str(payload["unit_price_yuan"]))).quantize(Decimal("0.01"))
        elif kind == "settlement":
            sale = int(payload["sale"])
            state.settled[sale] = state.settled.get(sale, Decimal(0)) + Decimal(str(payload["amount_yuan"]))
    return state


def check_step(state: BatchState, kind: str, payload: dict[str, Any]) -> None:
    """Whether a step may follow what the batch's chain holds: a sale (by the batch's producer) no larger than what
    is left; a settlement of a sale of this batch that does not pay it more than its amount, or of a harvest (the
    producer paying the grower); nothing after the batch sold out but settlements."""
    if kind not in STEPS:
        raise InputError(N_("unknown step {value}; expected one of {expected}"), value=kind,
                         expected=", ".join(STEPS))
    if state.remaining <= 0 and kind != "settlement":
        raise Conflict(N_("the batch is sold out; only settlements of its sales can follow"))
    if kind == "sale":
        q = Decimal(str(payload["quantity"]))
        if q > state.remaining:
            raise Conflict(N_("a sale of {quantity} is more than the {remaining} left in the batch"),
                           quantity=str(q), remaining=str(state.remaining))
    if kind == "settlement":
        sale = int(payload["sale"])
        if sale in state.harvests:
            return
        if sale not in state.sales:
            raise Conflict(N_("record {sale} is not a sale or a harvest of this batch"), sale=sale)
        paid = state.settled.get(sale, Decimal(0)) + Decimal(str(payload["amount_yuan"]))
        if paid > state.sales[sale]:
            raise Conflict(N_("settlements of sale {sale} would reach {paid} yuan, more than its {amount} yuan"),
                           sale=sale, paid=str(paid), amount=str(state.sales[sale]))


# -- the hash chain -------------------------------------------------------------------------------------------------

def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(batch: str, seq: int, kind: str, at: str, payload: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(canonical({"batch": batch, "seq": seq, "kind": kind, "at": at, "payload": payload,
                                     "prev": prev})).hexdigest()


def head_message(batch: str, length: int, head: str) -> bytes:
    return canonical({"batch": batch, "length": length, "head": head})


def sign(private: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private.sign(message)).decode("ascii")


def signature_ok(keys: dict[str, bytes], key_id: str, signature: str, message: bytes) -> bool:
    raw = keys.get(key_id)
    if raw is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class ChainRecord:
    seq: int
    kind: str
    at: str
    payload: dict[str, Any]
    prev: str
    hash: str
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "at": self.at, "payload": self.payload, "prev": self.prev,
                "hash": self.hash, "key_id": self.key_id, "signature": self.signature}


@dataclass(frozen=True)
class Head:
    length: int
    hash: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class Break:
    seq: int  # the record where the chain stops holding (length + 1: the head)
    message: str  # msgid
    params: dict[str, Any] = field(default_factory=dict)


def verify_chain(batch: str, records: list[ChainRecord], head: Head | None, keys: dict[str, bytes]) -> list[Break]:
    """Every place the batch's stored chain does not hold, in order; empty when it is intact.

    `records` as stored, in the order of their sequence numbers; `keys` the public keys by key id."""
    breaks: list[Break] = []
    prev = GENESIS
    for n, r in enumerate(records, start=1):
        if r.seq != n:
            breaks.append(Break(n, N_("record {seq} is missing or out of place (found number {found} there)"),
                                {"seq": n, "found": r.seq}))
        if r.prev != prev:
            breaks.append(Break(r.seq, N_("record {seq} does not link to the record before it"), {"seq": r.seq}))
        if record_hash(batch, r.seq, r.kind, r.at, r.payload, r.prev) != r.hash:
            breaks.append(Break(r.seq, N_("record {seq} was changed after it was recorded (its hash does not "
                                          "match its content)"), {"seq": r.seq}))
        if not signature_ok(keys, r.key_id, r.signature, bytes.fromhex(r.hash) if _hex(r.hash) else b""):
            breaks.append(Break(r.seq, N_("record {seq} does not carry the platform's signature"), {"seq": r.seq}))
        prev = r.hash
    end = len(records) + 1
    if head is None:
        if records:
            breaks.append(Break(end, N_("the chain has no signed head")))
        return breaks
    if not signature_ok(keys, head.key_id, head.signature, head_message(batch, head.length, head.hash)):
        breaks.append(Break(end, N_("the chain's head does not carry the platform's signature")))
    if head.length != len(records) or head.hash != (records[-1].hash if records else GENESIS):
        breaks.append(Break(end, N_("the signed head names {length} records, {found} are stored: records were "
                                    "removed or added at the end"), {"length": head.length, "found": len(records)}))
    return breaks


def _hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True
