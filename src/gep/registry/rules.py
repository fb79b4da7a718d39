"""The registry's rules as plain code: what parcels and rights there are, what may happen to them, and the current
state as the replay of what happened.

A parcel's rights over time are a history that is never edited: every registration, transfer, lease, pledge,
freeze, release, split and merge is an event, and `apply` turns a state and an event into the next state — or
refuses, saying why. The database keeps the events and, for fast reading, the state they lead to; the tests
check that the two agree (`replay`), that area is conserved through splits and merges, and that a locked right
never changes holder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from gep.errors import N_, Conflict, InputError, Word

# -- what there is -------------------------------------------------------------------------------------------

POLYGONS = frozenset({"Polygon", "MultiPolygon"})
LINES = frozenset({"LineString", "MultiLineString"})
POINTS = frozenset({"Point", "MultiPoint"})


@dataclass(frozen=True)
class Kind:
    label: str  # msgid
    geometries: frozenset[str]
    rights: frozenset[str]  # the right types a parcel of this kind may carry


KINDS: dict[str, Kind] = {
    "forest_land": Kind(N_("Forest land"), POLYGONS, frozenset({"ownership", "contract", "management", "use"})),
    "public_welfare_forest": Kind(N_("Public-welfare forest"), POLYGONS,
                                  frozenset({"ownership", "contract", "management"})),
    "farmland": Kind(N_("Farmland"), POLYGONS, frozenset({"ownership", "contract", "management"})),
    "idle_house": Kind(N_("Idle rural house"), POLYGONS, frozenset({"ownership", "use"})),
    "homestead": Kind(N_("Homestead"), POLYGONS, frozenset({"ownership", "use"})),
    "reservoir_pond": Kind(N_("Reservoir or pond"), POLYGONS, frozenset({"ownership", "management", "use"})),
    "river_section": Kind(N_("River section"), POLYGONS | LINES, frozenset({"ownership", "management", "use"})),
    "water_take_permit": Kind(N_("Water-take permit"), POINTS | POLYGONS, frozenset({"use"})),
    "sand_gravel": Kind(N_("Sand and gravel deposit"), POLYGONS, frozenset({"ownership", "use"})),
}

RIGHT_TYPES = {"ownership": N_("ownership"), "contract": N_("contract right"), "management": N_("management right"),
               "use": N_("use right")}
TERMLESS = frozenset({"ownership"})  # ownership has no term; the others run from a start to an end

LOCK_KINDS = {"pledge": N_("pledge"), "lease": N_("lease"), "freeze": N_("freeze"), "trade": N_("pending trade")}
LOCKING = {"pledge": N_("be pledged"), "lease": N_("be leased"), "freeze": N_("be frozen again"),
           "trade": N_("be listed for trade")}

HOLDER_KINDS = {"person": N_("person"), "collective": N_("village collective"),
                "organisation": N_("organisation"), "state": N_("the state")}


# -- identity numbers ----------------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_valid(number: str) -> bool:
    """A citizen identity number (GB 11643-1999): 17 digits, a birth date, and its ISO 7064 MOD 11-2 check."""
    n = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return False
    try:
        date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return False
    return _ID_CHECK[sum(int(d) * w for d, w in zip(n[:17], _ID_WEIGHTS, strict=True)) % 11] == n[17]


def credit_code_valid(code: str) -> bool:
    """A unified social credit code of an organisation (GB 32100-2015): 18 characters and its MOD 31 check."""
    c = code.strip().upper()
    if len(c) != 18 or any(ch not in _USCC_CHARS for ch in c):
        return False
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(c[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == c[17]


def mask_id(number: str) -> str:
    """How an identity number is shown, everywhere: never in full (the first 3 and last 2 characters)."""
    n = number.strip()
    return n[:3] + "*" * max(0, len(n) - 5) + n[-2:] if len(n) > 5 else "*" * len(n)


def id_problem(kind: str, number: str) -> str | None:
    if not number:
        return None
    if kind == "person" and not resident_id_valid(number):
        return N_("is not a valid citizen identity number (18 characters, a birth date and a check digit)")
    if kind in ("organisation", "collective") and not (credit_code_valid(number) or resident_id_valid(number)):
        return N_("is neither a valid unified social credit code nor a citizen identity number (18 characters with a "
                  "check character)")
    return None


# -- the state and its events --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lock:
    """What encumbers a right: who holds the lock, why, and until when."""

    id: str
    kind: str  # LOCK_KINDS
    holder: str  # who holds the lock (a bank, a cooperative, a court, the exchange)
    until: date | None = None
    ref: str = ""


@dataclass(frozen=True)
class Right:
    id: int
    parcel_id: int
    type: str
    holder_id: int
    start: date | None
    end: date | None
    certificate_no: str
    locks: tuple[Lock, ...] = ()
    active: bool = True

    @property
    def locked(self) -> bool:
        return bool(self.locks)


@dataclass(frozen=True)
class Parcel:
    id: int
    kind: str
    area_m2: float
    active: bool = True
    parents: tuple[int, ...] = ()
    children: tuple[int, ...] = ()


@dataclass(frozen=True)
class State:
    parcels: Mapping[int, Parcel] = field(default_factory=dict)
    rights: Mapping[int, Right] = field(default_factory=dict)

    def rights_on(self, parcel_id: int) -> list[Right]:
        return Book(self).rights_on(parcel_id)


@dataclass(frozen=True)
class ParcelRegistered:
    parcel_id: int
    kind: str
    area_m2: float


@dataclass(frozen=True)
class RightGranted:
    right_id: int
    parcel_id: int
    type: str
    holder_id: int
    start: date | None
    end: date | None
    certificate_no: str


@dataclass(frozen=True)
class RightTransferred:
    right_id: int
    to_holder_id: int
    certificate_no: str = ""  # a new certificate, when one is issued


@dataclass(frozen=True)
class RightLocked:
    right_id: int
    lock: Lock


@dataclass(frozen=True)
class LockReleased:
    right_id: int
    lock_id: str


@dataclass(frozen=True)
class RightEnded:
    right_id: int
    reason: str = ""


@dataclass(frozen=True)
class ParcelSplit:
    parcel_id: int
    parts: tuple[tuple[int, float], ...]  # (new parcel id, area m²)
    rights: tuple[RightGranted, ...]  # the rights carried onto the new parcels


@dataclass(frozen=True)
class ParcelsMerged:
    parcel_ids: tuple[int, ...]
    new_parcel_id: int
    area_m2: float
    rights: tuple[RightGranted, ...]  # the rights carried onto the new parcels


Event = (ParcelRegistered | RightGranted | RightTransferred | RightLocked | LockReleased | RightEnded | ParcelSplit
         | ParcelsMerged)
AREA_TOLERANCE = 1e-6  # relative: parts must add up to their parcel (and merged parcels to the whole)


class RuleError(Conflict):
    """The event does not fit the state: nothing changes."""


class Book:
    """A working copy of a state that events change in place, with the rights of each parcel at hand:
    `apply` copies the state once, `replay` never (so a long history replays in linear time)."""

    def __init__(self, state: State | None = None) -> None:
        self.parcels: dict[int, Parcel] = dict(state.parcels) if state else {}
        self.rights: dict[int, Right] = dict(state.rights) if state else {}
        self._on: dict[int, set[int]] = {}
        for r in self.rights.values():
            self._on.setdefault(r.parcel_id, set()).add(r.id)

    def rights_on(self, parcel_id: int) -> list[Right]:
        return [self.rights[i] for i in sorted(self._on.get(parcel_id, ())) if self.rights[i].active]

    def put(self, right: Right) -> None:
        self.rights[right.id] = right
        self._on.setdefault(right.parcel_id, set()).add(right.id)

    def right(self, right_id: int) -> Right:
        right = self.rights.get(right_id)
        if right is None or not right.active:
            raise RuleError(N_("right {id} does not exist or has ended"), id=right_id)
        return right

    def parcel(self, parcel_id: int) -> Parcel:
        parcel = self.parcels.get(parcel_id)
        if parcel is None or not parcel.active:
            raise RuleError(N_("parcel {id} does not exist or was split or merged"), id=parcel_id)
        return parcel

    def state(self) -> State:
        return State(self.parcels, self.rights)


def _not_locked(right: Right, action: str) -> None:
    if right.locks:
        lock = right.locks[0]
        until = lock.until.isoformat() if lock.until else "—"
        raise RuleError(N_("right {id} cannot {action}: it is locked ({kind}) by {holder} until {until}"),
                        id=right.id, action=Word(action), kind=Word(LOCK_KINDS[lock.kind]), holder=lock.holder,
                        until=until)


def check_term(start: date | None, end: date | None, right_type: str) -> str | None:
    """Why a right's term is inconsistent (None when it is fine)."""
    if right_type in TERMLESS:
        return None
    if start is None or end is None:
        return N_("this right needs a start and an end date: {type}")
    if end <= start:
        return N_("the term must end after it starts ({start} – {end})")
    return None


def _grant(book: Book, g: RightGranted) -> None:
    if g.right_id in book.rights:
        raise RuleError(N_("right {id} is registered already"), id=g.right_id)
    parcel = book.parcel(g.parcel_id)
    if g.type not in KINDS[parcel.kind].rights:
        raise RuleError(N_("a parcel of kind {kind} cannot carry this right: {type}"),
                        kind=Word(KINDS[parcel.kind].label), type=Word(RIGHT_TYPES.get(g.type, g.type)))
    problem = check_term(g.start, g.end, g.type)
    if problem:
        raise RuleError(problem, type=Word(RIGHT_TYPES[g.type]), start=str(g.start), end=str(g.end))
    if any(r.type == g.type for r in book.rights_on(g.parcel_id)):
        raise RuleError(N_("parcel {parcel} already has an active right of this type: {type}"), parcel=g.parcel_id,
                        type=Word(RIGHT_TYPES[g.type]))
    book.put(Right(g.right_id, g.parcel_id, g.type, g.holder_id, g.start, g.end, g.certificate_no))


def _same_area(parts: Iterable[float], whole: float) -> bool:
    return abs(sum(parts) - whole) <= AREA_TOLERANCE * max(whole, 1.0)


def _step(book: Book, event: Event) -> None:
    """Change the book by one event, or raise RuleError saying why the event cannot happen."""
    match event:
        case ParcelRegistered(parcel_id, kind, area):
            if parcel_id in book.parcels:
                raise RuleError(N_("parcel {id} is registered already"), id=parcel_id)
            if kind not in KINDS:
                raise RuleError(N_("unknown parcel kind {kind}"), kind=kind)
            if area < 0:
                raise RuleError(N_("an area cannot be negative"))
            book.parcels[parcel_id] = Parcel(parcel_id, kind, area)
        case RightGranted():
            _grant(book, event)
        case RightTransferred(right_id, to_holder, cert):
            right = book.right(right_id)
            _not_locked(right, N_("be transferred"))
            if to_holder == right.holder_id:
                raise RuleError(N_("right {id} already belongs to that holder"), id=right_id)
            book.put(replace(right, holder_id=to_holder, certificate_no=cert or right.certificate_no))
        case RightLocked(right_id, lock):
            right = book.right(right_id)
            if lock.kind not in LOCK_KINDS:
                raise RuleError(N_("unknown lock kind {kind}"), kind=lock.kind)
            if lock.kind == "freeze":  # a court may freeze what is pledged or leased, once
                if any(k.kind == "freeze" for k in right.locks):
                    raise RuleError(N_("right {id} is frozen already"), id=right_id)
            else:
                _not_locked(right, LOCKING[lock.kind])
            book.put(replace(right, locks=(*right.locks, lock)))
        case LockReleased(right_id, lock_id):
            right = book.right(right_id)
            if not any(k.id == lock_id for k in right.locks):
                raise RuleError(N_("right {id} has no lock {lock}"), id=right_id, lock=lock_id)
            book.put(replace(right, locks=tuple(k for k in right.locks if k.id != lock_id)))
        case RightEnded(right_id, _reason):
            right = book.right(right_id)
            _not_locked(right, N_("be ended"))
            book.put(replace(right, active=False))
        case ParcelSplit(parcel_id, parts, carried):
            parent = book.parcel(parcel_id)
            if len(parts) < 2:
                raise RuleError(N_("a split needs at least two parts"))
            if not _same_area((a for _, a in parts), parent.area_m2):
                raise RuleError(N_("the parts' areas ({parts} m²) do not add up to the parcel's {area} m²"),
                                parts=f"{sum(a for _, a in parts):.2f}", area=f"{parent.area_m2:.2f}")
            new_ids = [pid for pid, _ in parts]
            for pid in new_ids:
                if pid in book.parcels:
                    raise RuleError(N_("parcel {id} is registered already"), id=pid)
            _carry(book, [parcel_id], carried, set(new_ids))
            for pid, area in parts:
                book.parcels[pid] = Parcel(pid, parent.kind, area, parents=(parcel_id,))
            book.parcels[parcel_id] = replace(parent, active=False, children=tuple(new_ids))
            for r in carried:
                _grant(book, r)
        case ParcelsMerged(ids, new_id, area, carried):
            if len(set(ids)) < 2:
                raise RuleError(N_("a merge needs at least two parcels"))
            olds = [book.parcel(pid) for pid in ids]
            if len({p.kind for p in olds}) != 1:
                raise RuleError(N_("only parcels of one kind can be merged"))
            if not _same_area((p.area_m2 for p in olds), area):
                raise RuleError(N_("the merged area ({area} m²) differs from the parcels' total ({parts} m²)"),
                                area=f"{area:.2f}", parts=f"{sum(p.area_m2 for p in olds):.2f}")
            if new_id in book.parcels:
                raise RuleError(N_("parcel {id} is registered already"), id=new_id)
            _same_holders(book, list(ids))
            _carry(book, list(ids), carried, {new_id})
            book.parcels[new_id] = Parcel(new_id, olds[0].kind, area, parents=tuple(ids))
            for p in olds:
                book.parcels[p.id] = replace(p, active=False, children=(new_id,))
            for r in carried:
                _grant(book, r)
        case _:
            raise InputError(N_("unknown registry event {event}"), event=type(event).__name__)


def _carry(book: Book, old_ids: list[int], carried: tuple[RightGranted, ...], new_ids: set[int]) -> None:
    """Check what the new parcels carry over and end the old parcels' rights (none may be locked)."""
    olds = [r for pid in old_ids for r in book.rights_on(pid)]
    for right in olds:
        _not_locked(right, N_("be split or merged"))
    if any(r.parcel_id not in new_ids for r in carried):
        raise RuleError(N_("a carried right must be on one of the new parcels"))
    before = {(r.type, r.holder_id) for r in olds}
    for new_id in new_ids:
        if {(r.type, r.holder_id) for r in carried if r.parcel_id == new_id} != before:
            raise RuleError(N_("every new parcel must carry the same rights and holders as before"))
    for right in olds:
        book.put(replace(right, active=False))


def _same_holders(book: Book, ids: list[int]) -> None:
    holders: dict[str, set[int]] = {}
    carriers: dict[str, int] = {}
    for pid in ids:
        for right in book.rights_on(pid):
            holders.setdefault(right.type, set()).add(right.holder_id)
            carriers[right.type] = carriers.get(right.type, 0) + 1
    for right_type, who in holders.items():
        if len(who) > 1 or carriers[right_type] != len(ids):
            raise RuleError(N_("parcels can be merged only when each right on them has the same holder "
                               "({type} differs)"), type=Word(RIGHT_TYPES[right_type]))


def apply(state: State, event: Event) -> State:
    """The state after `event`, or RuleError saying why the event cannot happen (the given state is unchanged)."""
    book = Book(state)
    _step(book, event)
    return book.state()


def replay(events: Iterable[Event], start: State | None = None) -> State:
    """The state that a history of events leads to (the projection kept in the database must equal it)."""
    book = Book(start)
    for event in events:
        _step(book, event)
    return book.state()


# -- events as stored ----------------------------------------------------------------------------------------

EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in (ParcelRegistered, RightGranted, RightTransferred,
                                                              RightLocked, LockReleased, RightEnded, ParcelSplit,
                                                              ParcelsMerged)}


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Lock | RightGranted):
        return {k: _plain(v) for k, v in value.__dict__.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_record(event: Event) -> tuple[str, dict[str, Any]]:
    return type(event).__name__, {k: _plain(v) for k, v in event.__dict__.items()}


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _new_right(d: dict[str, Any]) -> RightGranted:
    return RightGranted(d["right_id"], d["parcel_id"], d["type"], d["holder_id"], _day(d["start"]), _day(d["end"]),
                    d["certificate_no"])


def from_record(kind: str, data: dict[str, Any]) -> Event:
    """The event an entry of the history stands for."""
    if kind == "RightGranted":
        return RightGranted(data["right_id"], data["parcel_id"], data["type"], data["holder_id"],
                            _day(data["start"]), _day(data["end"]), data["certificate_no"])
    if kind == "RightLocked":
        lock = data["lock"]
        return RightLocked(data["right_id"], Lock(lock["id"], lock["kind"], lock["holder"], _day(lock["until"]),
                                                  lock.get("ref", "")))
    if kind == "ParcelSplit":
        return ParcelSplit(data["parcel_id"], tuple((int(p), float(a)) for p, a in data["parts"]),
                           tuple(_new_right(r) for r in data["rights"]))
    if kind == "ParcelsMerged":
        return ParcelsMerged(tuple(data["parcel_ids"]), data["new_parcel_id"], float(data["area_m2"]),
                             tuple(_new_right(r) for r in data["rights"]))
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise InputError(N_("unknown registry event {event}"), event=kind)
    event: Event = cls(**data)
    return event
