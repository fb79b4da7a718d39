"""Watershed compensation and damage valuation rules by hand: the index in both orientations, every direction
and the boundary values (0.9, 1.1, 0.95, 1.05 exactly), the Xin'an formula P = K0 × Σ kᵢ Cᵢ/Cᵢ₀ with its P ≤ 1 rule,
the baseline ratchet, the pool's payout, the checking of observation rows, and the recovery schedule."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gep.compensation import damage, rules
from gep.errors import InputError

SCHEMES = rules.load_schemes()
OUJIANG = SCHEMES["oujiang-r3-2024"]
XINAN = SCHEMES["xinan-r1-2012"]
BASE = {"codmn": D("2.0"), "nh3n": D("0.20"), "tp": D("0.050"), "tn": D("1.00"), "flow": D(100), "efficiency": D(40)}


def scaled(ratio: str) -> dict[str, D]:
    """Values whose every oriented ratio (pollution orientation) is `ratio`: concentrations and water use × r,
    flow ÷ r."""
    r = D(ratio)
    return {p: (v / r if p == "flow" else v * r) for p, v in BASE.items()}


def test_the_oujiang_index_by_hand() -> None:
    # ratios (pollution orientation): CODMn 1.6/2.0 = 0.8, NH3-N 0.18/0.20 = 0.9, TP 0.04/0.05 = 0.8,
    # TN 0.9/1.0 = 0.9 → quality 0.25 × 3.4 = 0.85; flow 100/125 = 0.8; water use 36/40 = 0.9
    # I = 0.6 × 0.85 + 0.2 × 0.8 + 0.2 × 0.9 = 0.51 + 0.16 + 0.18 = 0.85
    values = {"codmn": D("1.6"), "nh3n": D("0.18"), "tp": D("0.04"), "tn": D("0.9"), "flow": D(125),
              "efficiency": D(36)}
    i = rules.index(OUJIANG, values, BASE)
    assert (i.value, i.quality, i.quantity, i.efficiency) == (D("0.8500"), D("0.85"), D("0.8"), D("0.9"))
    assert rules.direction(OUJIANG, "II", i.value) == "downstream_pays"
    assert rules.direction(OUJIANG, "III", i.value) == "downstream_pays"


@pytest.mark.parametrize(("cls", "ratio", "expected"), [
    ("II", "0.8999", "downstream_pays"), ("II", "0.9", "none"), ("II", "1.0", "none"), ("II", "1.1", "none"),
    ("II", "1.1001", "upstream_pays"),
    ("III", "0.9499", "downstream_pays"), ("III", "0.95", "none"), ("III", "1.05", "none"),
    ("III", "1.0501", "upstream_pays"), ("III", "0.92", "downstream_pays"), ("II", "0.92", "none"),
])
def test_each_direction_and_the_boundaries_of_the_pollution_index(cls: str, ratio: str, expected: str) -> None:
    i = rules.index(OUJIANG, scaled(ratio), BASE)
    assert i.value == D(ratio).quantize(D("0.0001"))
    assert rules.direction(OUJIANG, cls, i.value) == expected


@pytest.mark.parametrize(("ratio", "expected"), [
    ("1.25", "downstream_pays"), ("1.1", "none"), ("0.9", "none"), ("0.8", "upstream_pays")])
def test_a_quality_index_mirrors_the_pollution_index(ratio: str, expected: str) -> None:
    """Quality orientation: ratio = baseline / value for concentrations (value / baseline for flow), so water
    cleaner than the baseline gives an index above 1 and downstream pays above the upper bound."""
    quality = replace(OUJIANG, orientation="quality")
    r = D(ratio)
    values = {p: (v * r if p == "flow" else v / r) for p, v in BASE.items()}
    i = rules.index(quality, values, BASE)
    assert i.value == r.quantize(D("0.0001"))
    assert rules.direction(quality, "II", i.value) == expected
    # the same water read as a pollution index gives the reciprocal; far from the bounds, the same direction
    # (the band is not symmetric under the reciprocal: quality 0.9 is pollution 1.1111, beyond 1.1)
    p = rules.index(OUJIANG, values, BASE)
    assert p.value == (1 / r).quantize(D("0.0001"))
    if ratio in ("1.25", "0.8"):
        assert rules.direction(OUJIANG, "II", p.value) == expected


def test_the_xinan_formula_and_its_p_le_1_rule() -> None:
    """P = 0.85 × 0.25 × (1.2 + 1.0 + 1.1 + 1.3) = 0.85 × 1.15 = 0.9775 ≤ 1: Zhejiang (downstream) pays Anhui
    the 1亿 and the centre's 3亿 goes to Anhui: Anhui gets 5亿 of the pool, Zhejiang nothing."""
    base = {"codmn": D("2.0"), "nh3n": D("0.10"), "tn": D("1.0"), "tp": D("0.02")}
    values = {"codmn": D("2.4"), "nh3n": D("0.10"), "tn": D("1.1"), "tp": D("0.026")}
    p = rules.index(XINAN, values, base)
    assert p.value == D("0.9775")
    assert rules.direction(XINAN, "II", p.value) == "downstream_pays"
    pay = rules.payout("downstream_pays", XINAN.amount_fen, XINAN.external_fen, XINAN.external_to)
    assert (pay.upstream_fen, pay.downstream_fen) == (500_000_000_00, 0)
    # exactly 1 counts as ≤ 1; above it Anhui pays Zhejiang (and still receives the centre's 3亿)
    k08 = replace(XINAN, k0=D("0.8"))
    assert rules.index(k08, {k: v * D("1.25") for k, v in base.items()}, base).value == D("1.0000")
    assert rules.direction(k08, "II", D("1.0000")) == "downstream_pays"
    assert rules.direction(k08, "II", D("1.0001")) == "upstream_pays"
    pay = rules.payout("upstream_pays", XINAN.amount_fen, XINAN.external_fen, XINAN.external_to)
    assert (pay.upstream_fen, pay.downstream_fen) == (300_000_000_00, 200_000_000_00)


def test_the_baseline_ratchets_and_never_gets_worse() -> None:
    agreed = {"codmn": D("2.0"), "flow": D(100), "efficiency": D(40)}
    y1 = {"codmn": D("1.8"), "flow": D(120), "efficiency": D(42)}  # cleaner, more water, more water used
    y2 = {"codmn": D("1.9"), "flow": D(90), "efficiency": D(35)}
    assert rules.baseline_for("ratchet", agreed, []) == agreed
    assert rules.baseline_for("ratchet", agreed, [(2024, y1)]) == {"codmn": D("1.8"), "flow": D(120),
                                                                   "efficiency": D(40)}
    assert rules.baseline_for("ratchet", agreed, [(2025, y2), (2024, y1)]) == {"codmn": D("1.8"), "flow": D(120),
                                                                               "efficiency": D(35)}
    assert rules.baseline_for("fixed", agreed, [(2024, y1)]) == agreed


@given(st.lists(st.tuples(st.decimals("0.1", "10", places=3), st.decimals("1", "500", places=1)), max_size=8))
def test_a_ratcheted_baseline_is_never_worse_than_any_year_before(years: list[tuple[D, D]]) -> None:
    agreed = {"codmn": D("3"), "flow": D(50)}
    earlier = [(2000 + k, {"codmn": c, "flow": q}) for k, (c, q) in enumerate(years)]
    base = rules.baseline_for("ratchet", agreed, earlier)
    assert base["codmn"] == min([D("3"), *(c for c, _ in years)])
    assert base["flow"] == max([D(50), *(q for _, q in years)])


def test_the_pool_pays_the_payees_stake_to_the_winner() -> None:
    assert rules.payout("downstream_pays", 800, 0, "upstream") == rules.Payout(1600, 0)
    assert rules.payout("upstream_pays", 800, 0, "upstream") == rules.Payout(0, 1600)
    assert rules.payout("none", 800, 0, "upstream") == rules.Payout(800, 800)
    assert rules.payout("none", 800, 100, "downstream") == rules.Payout(800, 900)


def test_the_shipped_rounds_carry_the_articles_figures() -> None:
    assert [SCHEMES[v].amount_fen for v in ("oujiang-r1-2018", "oujiang-r2-2021", "oujiang-r3-2024")] == [
        5_000_000_00, 5_000_000_00, 8_000_000_00]
    assert (OUJIANG.thresholds["II"].lower, OUJIANG.thresholds["II"].upper) == (D("0.9"), D("1.1"))
    assert (OUJIANG.thresholds["III"].lower, OUJIANG.thresholds["III"].upper) == (D("0.95"), D("1.05"))
    assert rules.scheme_for(SCHEMES, "oujiang", 2025).version == "oujiang-r3-2024"
    with pytest.raises(InputError, match="no round covering"):
        rules.scheme_for(SCHEMES, "oujiang", 2017)


def test_a_scheme_whose_weights_do_not_add_up_is_refused() -> None:
    raw = {**OUJIANG.as_dict(), "amount_yuan": "1", "parameter_weights": {"codmn": "0.5", "tp": "0.4"}}
    with pytest.raises(InputError, match=r"add up to 0\.9"):
        rules.parse_scheme(raw)
    raw = {**OUJIANG.as_dict(), "amount_yuan": "1", "quality_weight": "0.7"}
    with pytest.raises(InputError, match="add up to 1"):
        rules.parse_scheme(raw)


def test_every_bad_row_is_reported_by_row() -> None:
    rows = [
        {"section": "X9", "period": "2024-01", "parameter": "codmn", "value": "2", "unit": "mg/L"},  # 2
        {"section": "S1", "period": "2024-01", "parameter": "codmn", "value": "2", "unit": "g/L"},  # 3
        {"section": "S1", "period": "2024-02", "parameter": "tp", "value": "-0.1", "unit": "mg/L"},  # 4
        {"section": "S1", "period": "2024-03", "parameter": "tn", "value": "1.0", "unit": "mg/L"},  # 5
        {"section": "S1", "period": "2024-03", "parameter": "tn", "value": "1.1", "unit": "mg/L"},  # 6
        {"section": "S1", "period": "2024-13", "parameter": "tn", "value": "1.1", "unit": "mg/L"},  # 7
        {"section": "S1", "period": "2024", "parameter": "flow", "value": "10", "unit": "m3/s"},  # 8
        {"section": "S1", "period": "2024-04", "parameter": "efficiency", "value": "30", "unit": "m3/万元"},  # 9
        {"section": "S1", "period": "2024-05", "parameter": "ph", "value": "7", "unit": ""},  # 10
        {"section": "S1", "period": "2024-05", "parameter": "nh3n", "value": "abc", "unit": "mg/L"},  # 11
        {"section": "S1", "period": "2024-06", "parameter": "nh3n", "value": "0.3", "unit": "mg/L"},  # 12: stored 0.2
        {"section": "S1", "period": "2024-07", "parameter": "nh3n", "value": "0.2", "unit": "mg/L"},  # 13: = stored
        {"section": "S1", "period": "2024-08", "parameter": "nh3n", "value": "25", "unit": "毫克/升"},  # 14: flagged
    ]
    stored = {("S1", 2024, 6, "nh3n"): D("0.2"), ("S1", 2024, 7, "nh3n"): D("0.2")}
    out = rules.check_rows(rows, {"S1"}, stored)
    where = {(p["row"], p["field"]) for p in out.problems}
    assert where == {(2, "section"), (3, "unit"), (4, "value"), (6, "period"), (7, "period"), (8, "period"),
                     (9, "period"), (10, "parameter"), (11, "value"), (12, "value")}
    assert [(r.row, r.flagged) for r in out.records] == [(5, False), (14, True)]
    assert out.skipped == 1


def test_gaps_are_the_months_a_year_lacks() -> None:
    present = {("codmn", m) for m in range(1, 13) if m != 11} | {("efficiency", 0)}
    assert rules.missing_periods(2025, ["codmn", "efficiency", "flow"], present) == [
        ("codmn", 11), *(("flow", m) for m in range(1, 13))]


def test_the_recovery_schedule_by_hand() -> None:
    assert damage.unrecovered_shares("step", 3) == [1.0, 1.0, 1.0]
    assert damage.unrecovered_shares("linear", 4) == [0.875, 0.625, 0.375, 0.125]
    assert damage.unrecovered_shares("curve", 2, [0.5, 1.0]) == [0.75, 0.25]
    undiscounted = damage.schedule(1000.0, damage.unrecovered_shares("linear", 4), D(0))
    assert sum(y.present_yuan for y in undiscounted) == pytest.approx(2000.0)  # linear: half the step total
    # 1,000 a year, linear over 2 years at 5 %: 750 / 1.05 + 250 / 1.1025 = 714.2857 + 226.7574 = 941.0431
    rows = damage.schedule(1000.0, damage.unrecovered_shares("linear", 2), D("0.05"))
    assert sum(y.present_yuan for y in rows) == pytest.approx(941.0431, abs=1e-4)
    with pytest.raises(InputError, match="never falls"):
        damage.unrecovered_shares("curve", 2, [0.8, 0.5])
    with pytest.raises(InputError, match="1 to 100"):
        damage.unrecovered_shares("linear", 0)
