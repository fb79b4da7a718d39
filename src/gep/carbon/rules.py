"""The carbon registry's rules as plain code: serial ranges (a unit's number exists once) and the states of a
monitoring report. Nothing here touches the database.

A project's units are numbered 1, 2, 3 … in the order they are issued; an issuance takes the next range, so two
issuances never share a number. A holding is a *block*: a contiguous range of one project's numbers in one
account. Transfers and retirements take whole blocks from the lowest number up and split the last one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from gep.errors import N_, Conflict, InputError, Word

PROJECT_TYPES = {"afforestation": N_("afforestation (碳汇造林)"),
                 "forest_management": N_("forest management (森林经营)"), "bamboo": N_("bamboo forest (竹林)")}
PERIOD_STATES = {"draft": N_("draft"), "submitted": N_("submitted for verification"), "verified": N_("verified"),
                 "rejected": N_("rejected by the verifier"), "issued": N_("units issued")}
PERIOD_MOVES: dict[str, dict[str, str]] = {
    "submit": {"draft": "submitted", "rejected": "submitted"},
    "verify": {"submitted": "verified"},
    "reject": {"submitted": "rejected"},
    "issue": {"verified": "issued"},
}
PERIOD_VERBS = {"submit": N_("submit for verification"), "verify": N_("verify"), "reject": N_("reject"),
                "issue": N_("issue units")}
PURPOSES = {"event": N_("carbon neutrality of an event"), "organisation": N_("an organisation's carbon neutrality"),
            "court": N_("judicial restoration (a court judgment)"), "voluntary": N_("voluntary offset")}


def period_step(state: str, verb: str) -> str:
    after = PERIOD_MOVES.get(verb, {}).get(state)
    if after is None:
        raise Conflict(N_("a monitoring report that is {state} cannot take the step “{verb}”"),
                       state=Word(PERIOD_STATES.get(state, state)), verb=Word(PERIOD_VERBS.get(verb, verb)))
    return after


def serial(project_code: str, vintage: int, number: int) -> str:
    """A unit's public serial number: project, vintage, number (e.g. LSFC-0001-2024-00001234)."""
    return f"{project_code}-{vintage}-{number:08d}"


def parse_serial(text: str) -> tuple[str, int, int] | None:
    """(project code, vintage, number) of a serial number as `serial` writes it, or None if it is not one."""
    parts = text.strip().rsplit("-", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


def serial_range(project_code: str, vintage: int, start: int, end: int) -> str:
    return serial(project_code, vintage, start) if start == end else \
        f"{serial(project_code, vintage, start)} – {end:08d}"


@dataclass(frozen=True)
class Block:
    """Units start..end (inclusive) of one project and vintage."""

    id: int
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class Take:
    """How a request for `quantity` units is served from blocks: whole blocks taken, and at most one split."""

    whole: tuple[int, ...]  # block ids moved entirely
    split: tuple[int, int] | None  # (block id, how many of its first units to take)


def take(blocks: Sequence[Block], quantity: int) -> Take:
    """Serve `quantity` units from `blocks` (already in the order to take them): the first blocks whole, the last
    one split if needed. Refuses when the blocks hold fewer units."""
    if quantity <= 0:
        raise InputError(N_("a quantity of units is a positive whole number, not {value}"), value=quantity)
    have = sum(b.size for b in blocks)
    if have < quantity:
        raise Conflict(N_("the account holds {have} units that can move, not {quantity}"), have=have,
                       quantity=quantity)
    whole: list[int] = []
    left = quantity
    for b in blocks:
        if left == 0:
            break
        if b.size <= left:
            whole.append(b.id)
            left -= b.size
        else:
            return Take(tuple(whole), (b.id, left))
    return Take(tuple(whole), None)


def within(blocks: Sequence[Block], start: int, end: int) -> list[Block]:
    """The blocks that cover start..end exactly, in order, or a Conflict naming the first number not covered
    (a range asked for by serial must lie in active blocks of the one account)."""
    if start > end:
        raise InputError(N_("a serial range runs from a lower to a higher number ({start} > {end})"), start=start,
                         end=end)
    covering = sorted((b for b in blocks if b.end >= start and b.start <= end), key=lambda b: b.start)
    at = start
    for b in covering:
        if b.start > at:
            break
        at = max(at, b.end + 1)
    if at <= end:
        raise Conflict(N_("unit number {number} is not held in this account (retired, moved or never issued)"),
                       number=at)
    return covering


def overlaps(ranges: Sequence[tuple[int, int]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of ranges that share a number (none, in a sound registry)."""
    ordered = sorted(ranges)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b[0] <= a[1]]
