"""The assessment's rules by hand: each scoring algorithm, ranks with ties, growth at constant prices, the colour
rule, and the checks on an indicator set (points add up to 1,000, algorithms have their parameters)."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gep.assessment import rules
from gep.errors import InputError

CAT = rules.load_catalogue()
COUNTY = CAT.sets["county-2021"]


def ind(algorithm: str, points: str = "50", **params: object) -> rules.Indicator:
    checked = rules._check_params("X", algorithm, params)
    return rules.Indicator("X", "A", "A1", "x", "x", "%", "fgw", algorithm, checked, D(points))


def test_shipped_sets_follow_the_published_structure() -> None:
    assert len(COUNTY.level1) == 5 and len(COUNTY.level2) == 18
    assert sum(i.points for i in COUNTY.indicators) == 1000
    names = {x.name_zh for x in COUNTY.level2}
    assert {"生态农业", "景观价值", "应用机制"} <= names
    level3 = {i.name_zh for i in COUNTY.indicators}
    assert {"'丽水山耕'品牌授权产品数量", "松材线虫病扩散控制率", "'微改造'精品花园乡村数量"} <= level3
    assert len(CAT.departments) == 16
    assert sum(i.points for i in CAT.sets["department-2021"].indicators) == 1000


def test_target_ratio() -> None:
    i = ind("target_ratio", target="5")
    got = rules.score(i, {"a": D("2.5"), "b": D("7"), "c": D("-1"), "d": None})
    assert got["a"].points == D("25.00")  # 50 × 2.5/5
    assert got["b"].points == D("50.00")  # capped at full
    assert got["c"].points == D("0.00")
    assert got["d"] == rules.Scored(D("0.00"), "no value")
    lower = ind("target_ratio", target="4", better="lower")
    got = rules.score(lower, {"a": D("3"), "b": D("5")})
    assert got["a"].points == D("50.00") and got["b"].points == D("40.00")  # 50 × 4/5


def test_threshold_takes_the_best_step_reached() -> None:
    i = ind("threshold", "30", steps=[["70", "0.5"], ["80", "1"], ["75", "0.8"]])
    got = rules.score(i, {"a": D("81"), "b": D("80"), "c": D("79.9"), "d": D("70"), "e": D("69.99")})
    assert [got[k].points for k in "abcde"] == [D("30.00"), D("30.00"), D("24.00"), D("15.00"), D("0.00")]
    lower = ind("threshold", "10", steps=[["1", "1"], ["2", "0.5"]], better="lower")
    got = rules.score(lower, {"a": D("0.5"), "b": D("1.5"), "c": D("3")})
    assert [got[k].points for k in "abc"] == [D("10.00"), D("5.00"), D("0.00")]


def test_rank_is_linear_from_full_to_the_floor_and_ties_share() -> None:
    i = ind("rank", "40", floor="0.6")
    got = rules.score(i, {"a": D("3"), "b": D("1"), "c": D("3"), "d": D("-2"), "e": D("0"), "f": None})
    # five ranked: 1, 3, 1, 5, 4 → 40 × (1 − 0.4 × (r − 1)/4)
    assert got["a"].points == got["c"].points == D("40.00")
    assert got["b"].points == D("32.00")
    assert got["e"].points == D("28.00")
    assert got["d"].points == D("24.00")
    assert got["f"] == rules.Scored(D("0.00"), "no value")
    assert rules.score(i, {"only": D("1")})["only"].points == D("40.00")
    # zero_scores_nothing: no trade at all is not ranked (it would otherwise tie for first)
    z = ind("rank", "40", floor="0.5", zero_scores_nothing=True)
    got = rules.score(z, {"a": D(0), "b": D(0), "c": D(5), "d": D(2)})
    assert [got[k].points for k in "abcd"] == [D("0.00"), D("0.00"), D("40.00"), D("20.00")]


def test_increment_scores_the_change_on_the_previous_year() -> None:
    i = ind("increment", "40", full="50", floor="0")
    got = rules.score(i, {"a": D("120"), "b": D("200"), "c": D("90"), "d": D("10")},
                      {"a": D("100"), "b": D("100"), "c": D("100")})
    assert got["a"].points == D("16.00")  # 40 × 20/50
    assert got["b"].points == D("40.00")
    assert got["c"].points == D("0.00")
    assert got["d"] == rules.Scored(D("0.00"), "no value for the previous year")


def test_points_round_half_up_to_the_cent() -> None:
    i = ind("target_ratio", "30", target="3")
    assert rules.score(i, {"a": D("1.0005")})["a"].points == D("10.01")  # 30 × 1.0005/3 = 10.005


def test_competition_ranks() -> None:
    assert rules.competition_ranks({"a": D(5), "b": D(7), "c": D(5), "d": D(1)}) == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert rules.competition_ranks({"a": D(5), "b": D(7)}, higher=False) == {"a": 1, "b": 2}


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(-50, 50), min_size=1, max_size=12))
def test_ranks_are_consistent_with_the_order(values: dict[str, int]) -> None:
    ranks = rules.competition_ranks({k: D(v) for k, v in values.items()})
    for a in values:
        assert ranks[a] == 1 + sum(1 for b in values if values[b] > values[a])


def test_growth_and_constant_prices() -> None:
    assert rules.growth(103.0, 100.0) == D("3.00")
    assert rules.growth(99.0, 100.0) == D("-1.00")
    assert rules.growth(1.0, 0.0) is None and rules.growth(None, 1.0) is None
    assert str(rules.growth(99.999999, 100.0)) == "0.00"  # not "-0.00"
    assert rules.growth(815 * 1.02 * 100 / 102, 800.0) == D("1.88")  # float noise does not decide the rounding
    index = {"2019": 124.94, "2020": 128.07}
    assert rules.constant_price_factor(index, 2020, 2019) == pytest.approx(124.94 / 128.07)
    assert rules.constant_price_factor(index, 2019, 2019) == 1.0
    with pytest.raises(InputError, match="price index has no value"):
        rules.constant_price_factor(index, 2021, 2019)


def test_colour_rules_first_that_holds() -> None:
    level1 = {"A": D(150), "B": D(300), "C": D(150), "D": D(200), "E": D(200)}
    assert rules.colour(COUNTY, D(1000), level1, {"D1.1": D("3")})[0] == "green"
    # GEP fell: red whatever the score
    colour, why = rules.colour(COUNTY, D(1000), level1, {"D1.1": D("-0.01")})
    assert (colour, why) == ("red", "D1.1 -0.01 < 0")
    assert rules.colour(COUNTY, D(550), level1, {"D1.1": D("-1")})[1] == "total 550 < 600; D1.1 -1 < 0"
    assert rules.colour(COUNTY, D("599.99"), level1, {"D1.1": D("1")})[0] == "red"
    assert rules.colour(COUNTY, D(750), level1, {"D1.1": D("1")})[1] == "total 750 ≥ 750; level1_min_share 1.00 ≥ 0.55"
    # 750 or more but a first-level indicator under 55 % of its points: yellow
    weak = {**level1, "C": D("82.49")}
    assert rules.colour(COUNTY, D(900), weak, {"D1.1": D("1")})[0] == "yellow"
    assert rules.colour(COUNTY, D(900), {**level1, "C": D("82.5")}, {"D1.1": D("1")})[0] == "green"
    assert rules.colour(COUNTY, D("749.99"), level1, {"D1.1": D("1")})[0] == "yellow"
    # a missing GEP growth does not make a county red by itself
    assert rules.colour(COUNTY, D(700), level1, {"D1.1": None})[0] == "yellow"


def _raw() -> dict:
    return tomllib.loads(rules.DEFAULT.read_text(encoding="utf-8"))


def test_a_set_whose_points_do_not_add_up_is_refused() -> None:
    raw = _raw()
    raw["set"][0]["indicator"][0]["points"] = 51
    with pytest.raises(InputError, match="add up to 151 points, not its 150"):
        rules.parse_catalogue(raw)
    raw = _raw()
    raw["set"][0]["level1"][0]["points"] = 151
    raw["set"][0]["indicator"][0]["points"] = 51
    with pytest.raises(InputError, match="add up to 1001 points, not 1,000"):
        rules.parse_catalogue(raw)


@pytest.mark.parametrize(("change", "message"), [
    ({"algorithm": "median"}, "unknown algorithm"),
    ({"params": {}}, "target"),
    ({"provider": "nobody"}, "unknown department"),
    ({"metric": "gdp_magic"}, "unknown metric"),
    ({"level2": "Z9"}, "unknown level-2"),
])
def test_a_malformed_indicator_is_named(change: dict, message: str) -> None:
    raw = copy.deepcopy(_raw())
    raw["set"][0]["indicator"][0].update(change)
    with pytest.raises(InputError, match=message):
        rules.parse_catalogue(raw)


def test_parse_value_checks_number_and_range() -> None:
    forest = COUNTY.indicator("A2.1")
    assert forest is not None
    assert rules.parse_value("81.5", forest) == (D("81.5"), "")
    assert rules.parse_value("1,000", COUNTY.indicator("A1.2"))[0] == D(1000)  # type: ignore[arg-type]
    assert rules.parse_value("abc", forest)[0] is None
    assert rules.parse_value("NaN", forest)[0] is None
    assert rules.parse_value("101", forest)[1].startswith("{value} is outside")


def test_allocation_by_hand() -> None:
    from gep.assessment.reward_rules import allocate

    assert allocate({"a": 1_000_000, "b": 500_000, "c": 250_000}, 1_000_000) == {"a": 571_429, "b": 285_714,
                                                                               "c": 142_857}
    assert allocate({"a": 5, "b": 5}, 100) == {"a": 5, "b": 5}  # within the budget: as asked
    assert allocate({"a": 1, "b": 1, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}  # equal remainders: by code


@given(st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 10**12), max_size=30),
       st.integers(0, 10**12))
def test_allocation_never_exceeds_the_budget_nor_what_was_asked(wanted: dict[str, int], budget: int) -> None:
    from gep.assessment.reward_rules import allocate

    paid = allocate(wanted, budget)
    assert sum(paid.values()) == min(budget, sum(wanted.values()))
    assert all(0 <= paid[k] <= wanted[k] for k in wanted)
    total = sum(wanted.values())
    if total > budget:  # in proportion, within one fen
        assert all(abs(paid[k] * total - wanted[k] * budget) < total for k in wanted)


def test_a_zone_amount_with_floor_and_cap() -> None:
    from gep.assessment.reward_rules import amount, load_policies

    p = load_policies()["gep-increment-2019"][0]
    assert amount(p, 94_000_000.0) == (188_000_000, "")  # 大均乡: 2 % of 9,400万 is 188万
    assert amount(p, 1_000_000.0) == (5_000_000, "")  # 2 % is 2万: the floor of 5万
    assert amount(p, 1e9) == (200_000_000, "capped")  # 2 % is 2,000万: the cap of 200万
    assert amount(p, -5.0) == (0, "basis not above the threshold")
    assert amount(p, None) == (0, "no accounts for both years")


def test_the_negative_list_takes_the_most_specific_rule_and_the_strictest_area() -> None:
    from gep.assessment import negative_list as nl_

    nl = nl_.load()
    assert nl_.verdict(nl, "C26", ["key_function"]).rule.id == "NL-10"  # type: ignore[union-attr]
    assert nl_.verdict(nl, "C2611", ["key_function"]).rule.id == "NL-10"  # type: ignore[union-attr]  # a class
    assert nl_.verdict(nl, "C13", ["key_function"]).verdict == "conditional"  # only C's general rule
    both = nl_.verdict(nl, "R", ["key_function", "red_line"])
    assert (both.verdict, both.kind) == ("restricted", "red_line")  # the stricter of NL-17 and NL-05
    assert nl_.verdict(nl, "I", ["red_line"]).verdict == "allowed"  # no rule for software in a red line
    assert nl_.verdict(nl, "C26", []).as_dict() == {"verdict": "allowed", "kind": "", "rule": None}
    with pytest.raises(InputError, match="not an industry code"):
        nl_.verdict(nl, "chemicals", ["red_line"])
    with pytest.raises(InputError, match="NL-X"):
        nl_.parse({"kind": [{"code": "k", "name_zh": "k", "name_en": "k"}],
                   "industry": [{"code": "C", "name_zh": "c", "name_en": "c"}],
                   "rule": [{"id": "NL-X", "industry": "C", "kind": "k", "verdict": "maybe"}]})


@given(st.lists(st.tuples(st.sampled_from(["open", "in_progress", "done"]), st.booleans()), max_size=20))
def test_a_task_moves_only_along_its_transitions(steps: list[tuple[str, bool]]) -> None:
    from gep.assessment.pilot_tasks import MOVES, can_move

    status = "open"
    for to, office in steps:
        if can_move(status, to, office):
            assert (status, to) in MOVES and (office or status != "done")
            status = to
    assert not can_move("done", "in_progress", office=False) and can_move("done", "in_progress", office=True)
    assert not can_move("open", "open", office=True)


def test_the_computed_counts_read_what_the_other_domains_hold() -> None:
    from gep.assessment.service import _metric

    trades = {"K1": (3, 1_234_567_00)}
    loans = {"K2": (4, 25_000_000_00)}
    counts = _metric("loans_count", ["K1", "K2"], None, {}, trades, {}, loans)
    assert counts == {"K1": D(0), "K2": D(4)}
    assert _metric("loans_amount", ["K2"], None, {}, trades, {}, loans) == {"K2": D("2500.00")}  # 10,000 yuan
    assert _metric("trades_amount", ["K1"], None, {}, trades, {}, loans) == {"K1": D("123.46")}
    assert _metric("gep_growth", ["K1"], None, {}, trades, {}, loans) == {"K1": None}  # no accounts: no value
