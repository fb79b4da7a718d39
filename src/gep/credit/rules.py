"""Ecological credit scoring as plain functions: which events are in force on a day, the score (base + the
positive points − the negative points, each dimension capped), the grade (vetoes first, then thresholds), the
explanation, and the incremental tally that must always equal a recount from scratch. Also the checks of an
event import, row by row. Nothing here touches the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gep.credit.catalogue import SUBJECT_KINDS, Catalogue, Indicator
from gep.errors import N_, Conflict, InputError, Word

EVENT_STATES = {"pending": N_("awaiting review"), "accepted": N_("counted"), "rejected": N_("rejected"),
                "withdrawn": N_("withdrawn")}
EVENT_MOVES: dict[str, dict[str, str]] = {
    "accept": {"pending": "accepted"},
    "reject": {"pending": "rejected"},
    "withdraw": {"pending": "withdrawn", "accepted": "withdrawn"},  # an upheld objection, or a correction
}
EVENT_VERBS = {"accept": N_("accept"), "reject": N_("reject"), "withdraw": N_("withdraw")}
SOURCES = {"manual": N_("entered by hand"), "csv": N_("imported from a file"), "domain": N_("reported by the platform")}


def event_step(state: str, verb: str) -> str:
    after = EVENT_MOVES.get(verb, {}).get(state)
    if after is None:
        raise Conflict(N_("a credit event that is {state} cannot take the step “{verb}”"),
                       state=Word(EVENT_STATES.get(state, state)), verb=Word(EVENT_VERBS.get(verb, verb)))
    return after


def expiry(occurred_on: date, indicator: Indicator) -> date:
    """The first day an event no longer counts."""
    return occurred_on + timedelta(days=indicator.validity_days)


@dataclass(frozen=True)
class Counted:
    """An accepted event as the score sees it."""

    id: int
    indicator: str
    list: str
    dimension: str
    points: int
    veto: bool
    occurred_on: date
    expires_on: date

    def in_force(self, on: date) -> bool:
        return self.occurred_on <= on < self.expires_on


def counted(event_id: int, indicator: Indicator, points: int, occurred_on: date) -> Counted:
    return Counted(event_id, indicator.code, indicator.list, indicator.dimension, points, indicator.veto, occurred_on,
                   expiry(occurred_on, indicator))


@dataclass
class Tally:
    """Raw points per list and dimension and the vetoes in force: what the incremental update keeps."""

    sums: dict[str, int] = field(default_factory=dict)  # "positive:protection" -> raw points
    vetoes: int = 0

    def add(self, e: Counted, sign: int = 1) -> None:
        key = f"{e.list}:{e.dimension}"
        self.sums[key] = self.sums.get(key, 0) + sign * e.points
        if not self.sums[key]:
            del self.sums[key]
        if e.veto:
            self.vetoes += sign

    def as_dict(self) -> dict[str, Any]:
        return {"sums": dict(sorted(self.sums.items())), "vetoes": self.vetoes}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Tally:
        d = d or {}
        return cls({str(k): int(v) for k, v in (d.get("sums") or {}).items()}, int(d.get("vetoes") or 0))


def tally(events: Iterable[Counted], on: date) -> Tally:
    """From scratch: every event in force on the day."""
    t = Tally()
    for e in events:
        if e.in_force(on):
            t.add(e)
    return t


@dataclass(frozen=True)
class Score:
    score: int
    grade: str
    vetoed: bool


def grade_of(score: int, vetoed: bool, catalogue: Catalogue) -> str:
    if vetoed:
        return catalogue.grades[-1][0]
    for grade, threshold in catalogue.grades:
        if score >= threshold:
            return grade
    return catalogue.grades[-1][0]


def score_of(t: Tally, catalogue: Catalogue) -> Score:
    """base + Σ min(cap, positive) − Σ min(cap, negative), kept within the floor and ceiling; a veto makes D."""
    total = catalogue.base
    for (lst, code), dim in catalogue.dimensions.items():
        raw = t.sums.get(f"{lst}:{code}", 0)
        total += min(dim.cap, raw) if lst == "positive" else -min(dim.cap, raw)
    total = max(catalogue.floor, min(catalogue.ceiling, total))
    vetoed = t.vetoes > 0
    return Score(total, grade_of(total, vetoed, catalogue), vetoed)


def grade_rank(grade: str, catalogue: Catalogue) -> int:
    """0 for the highest grade; larger is worse (an unknown grade ranks below all)."""
    names = [g for g, _ in catalogue.grades]
    return names.index(grade) if grade in names else len(names)


def explain(events: Sequence[Counted], catalogue: Catalogue, on: date) -> dict[str, Any]:
    """Why a subject has its grade: each dimension's raw and counted points (capped), each event in force with
    what it moved and when it stops counting, the vetoes, and the next expiry (a path to repair)."""
    live = [e for e in events if e.in_force(on)]
    t = tally(live, on)
    s = score_of(t, catalogue)
    dims = []
    for (lst, code), dim in catalogue.dimensions.items():
        raw = t.sums.get(f"{lst}:{code}", 0)
        dims.append({"list": lst, "code": code, "name_zh": dim.name_zh, "name_en": dim.name_en, "cap": dim.cap,
                     "raw": raw, "counted": min(dim.cap, raw), "capped": raw > dim.cap})
    moved = [{"id": e.id, "indicator": e.indicator, "list": e.list, "dimension": e.dimension,
              "points": e.points if e.list == "positive" else -e.points, "veto": e.veto,
              "occurred_on": e.occurred_on.isoformat(), "expires_on": e.expires_on.isoformat()}
             for e in sorted(live, key=lambda e: (e.occurred_on, e.id))]
    negatives = [e.expires_on for e in live if e.list == "negative"]
    return {"base": catalogue.base, "score": s.score, "grade": s.grade, "vetoed": s.vetoed, "on": on.isoformat(),
            "version": catalogue.version, "dimensions": dims, "events": moved,
            "vetoes": [m for m in moved if m["veto"]],
            "next_negative_expiry": min(negatives).isoformat() if negatives else None}


# -- imports ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    row: int
    subject_id: int
    indicator: Indicator
    occurred_on: date
    quantity: str
    points: int
    evidence: str
    note: str
    key: str


@dataclass
class Checked:
    rows: list[Row] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


COLUMNS = ("subject", "indicator", "date", "quantity", "evidence", "note")


def event_key(subject_id: int, indicator: str, occurred_on: date, quantity: str, evidence: str) -> str:
    """What makes two records the same event (an import of the same file, a row twice in a file)."""
    return f"{subject_id}|{indicator}|{occurred_on.isoformat()}|{quantity.strip()}|{evidence.strip()}"[:300]


def event_problem(indicator: Indicator, subject_kind: str, occurred_on: date, quantity: str, evidence: str,
                  today: date) -> tuple[int, tuple[str, str, dict[str, Any]] | None]:
    """The points of a proposed event, or what is wrong with it: (field, message, its parameters)."""
    if subject_kind not in indicator.subjects:
        return 0, ("indicator", N_("indicator {code} does not apply to a {kind}"),
                   {"code": indicator.code, "kind": Word(SUBJECT_KINDS.get(subject_kind, subject_kind))})
    if occurred_on > today:
        return 0, ("date", N_("the date {date} is in the future"), {"date": occurred_on.isoformat()})
    if indicator.evidence_required and not evidence.strip():
        return 0, ("evidence", N_("indicator {code} needs evidence (a document number or a link)"),
                   {"code": indicator.code})
    try:
        return indicator.points_for(quantity), None
    except InputError as exc:
        return 0, ("quantity", exc.template, exc.params)


def check_event(indicator: Indicator, subject_kind: str, occurred_on: date, quantity: str, evidence: str,
                today: date) -> int:
    """The points of a proposed event, or an InputError saying what is wrong with it."""
    points, problem = event_problem(indicator, subject_kind, occurred_on, quantity, evidence, today)
    if problem is not None:
        raise InputError(problem[1], **problem[2])
    return points


def check_rows(rows: Sequence[Mapping[str, str]], subjects: Mapping[str, tuple[int, str]], catalogue: Catalogue,
               today: date, known_keys: set[str]) -> tuple[Checked, int]:
    """Each row of an import checked (row numbers count the header as row 1): every problem named by row and
    field; rows already recorded (`known_keys`) are skipped and counted; a row twice in the file is a problem."""
    out = Checked()
    seen: dict[str, int] = {}
    skipped = 0
    for n, raw in enumerate(rows, start=2):
        r = {k: str(v or "").strip() for k, v in raw.items()}

        def problem(column: str, message: str, n: int = n, **params: Any) -> None:
            out.problems.append({"row": n, "field": column, "message": message, "params": params})

        subject = subjects.get(r.get("subject", ""))
        if subject is None:
            problem("subject", N_("unknown subject {value}"), value=r.get("subject", ""))
            continue
        try:
            indicator = catalogue.indicator(r.get("indicator", ""))
        except InputError:
            problem("indicator", N_("unknown indicator {value}"), value=r.get("indicator", ""))
            continue
        try:
            on = date.fromisoformat(r.get("date", ""))
        except ValueError:
            problem("date", N_("not a date (YYYY-MM-DD): {value}"), value=r.get("date", ""))
            continue
        points, wrong = event_problem(indicator, subject[1], on, r.get("quantity", ""), r.get("evidence", ""), today)
        if wrong is not None:
            problem(wrong[0], wrong[1], **wrong[2])
            continue
        key = event_key(subject[0], indicator.code, on, r.get("quantity", ""), r.get("evidence", ""))
        if key in seen:
            problem("subject", N_("the same event as row {row}"), row=seen[key])
            continue
        seen[key] = n
        if key in known_keys:
            skipped += 1
            continue
        out.rows.append(Row(n, subject[0], indicator, on, r.get("quantity", ""), points, r.get("evidence", ""),
                            r.get("note", ""), key))
    return out, skipped
