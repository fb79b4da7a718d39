"""The rights registry: identity numbers, the rules of rights (by hand and as a hypothesis state machine), the
history replayed equals the tables, split and merge conserve area, locks, VEP equal to the accounts, and two
clients acting on one right at once on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, multiple, rule

from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import Conflict
from gep.regions import service as regions
from gep.registry import rules, service, vep
from registry_fixtures import CLERK, Platform, build, one_parcel, pixel_box

# -- identity numbers (published examples) --------------------------------------------------------------------


@pytest.mark.parametrize(("number", "valid"), [
    ("11010519491231002X", True),  # the example of GB 11643-1999
    ("110105194912310021", False),  # its check digit changed
    ("110105194902300023", False),  # 30 February
    ("11010519491231002", False), ("1101051949123100XX", False)])
def test_citizen_identity_numbers(number: str, valid: bool) -> None:
    assert rules.resident_id_valid(number) is valid


@pytest.mark.parametrize(("code", "valid"), [("91350100M000100Y43", True),  # the example of GB 32100-2015
                                              ("91350100M000100Y44", False), ("91350100M000100Y4", False),
                                              ("91350100M000100I43", False)])  # I is not used
def test_unified_social_credit_codes(code: str, valid: bool) -> None:
    assert rules.credit_code_valid(code) is valid


def test_identity_numbers_are_never_shown_in_full() -> None:
    assert rules.mask_id("11010519491231002X") == "110*************2X"
    assert rules.mask_id("1234") == "****"


# -- the rules by hand ------------------------------------------------------------------------------------------

D0, D1 = date(2019, 1, 1), date(2048, 12, 31)


def _base() -> rules.State:
    return rules.replay([rules.ParcelRegistered(1, "forest_land", 1000.0),
                         rules.RightGranted(10, 1, "contract", 100, D0, D1, "C10")])


def test_a_locked_right_cannot_be_transferred_pledged_or_ended_until_released() -> None:
    state = rules.apply(_base(), rules.RightLocked(10, rules.Lock("L1", "pledge", "丽水农商银行", date(2030, 1, 1))))
    for event in (rules.RightTransferred(10, 200), rules.RightLocked(10, rules.Lock("L2", "lease", "合作社")),
                  rules.RightEnded(10)):
        with pytest.raises(rules.RuleError, match="locked"):
            rules.apply(state, event)
    frozen = rules.apply(state, rules.RightLocked(10, rules.Lock("F1", "freeze", "法院")))  # a court still can
    released = rules.apply(rules.apply(frozen, rules.LockReleased(10, "L1")), rules.LockReleased(10, "F1"))
    assert rules.apply(released, rules.RightTransferred(10, 200)).rights[10].holder_id == 200


def test_terms_and_kinds_are_checked() -> None:
    base = rules.replay([rules.ParcelRegistered(1, "homestead", 200.0)])
    with pytest.raises(rules.RuleError, match="cannot carry"):
        rules.apply(base, rules.RightGranted(1, 1, "contract", 5, D0, D1, "X"))
    with pytest.raises(rules.RuleError, match="must end after it starts"):
        rules.apply(base, rules.RightGranted(1, 1, "use", 5, D1, D0, "X"))
    with pytest.raises(rules.RuleError, match="already has an active"):
        rules.replay([rules.RightGranted(1, 1, "use", 5, D0, D1, "X"), rules.RightGranted(2, 1, "use", 6, D0, D1, "Y")],
                     base)


def test_a_split_conserves_area_and_carries_the_rights_on() -> None:
    carried = (rules.RightGranted(11, 2, "contract", 100, D0, D1, "C11"),
               rules.RightGranted(12, 3, "contract", 100, D0, D1, "C12"))
    state = rules.apply(_base(), rules.ParcelSplit(1, ((2, 400.0), (3, 600.0)), carried))
    assert not state.parcels[1].active and state.parcels[1].children == (2, 3)
    assert not state.rights[10].active and state.rights[11].holder_id == state.rights[12].holder_id == 100
    with pytest.raises(rules.RuleError, match="do not add up"):
        rules.apply(_base(), rules.ParcelSplit(1, ((2, 400.0), (3, 500.0)), ()))
    with pytest.raises(rules.RuleError, match="same rights and holders"):
        rules.apply(_base(), rules.ParcelSplit(1, ((2, 400.0), (3, 600.0)), (
            rules.RightGranted(11, 2, "contract", 100, D0, D1, "C11"),)))


def test_a_merge_needs_one_kind_and_the_same_holders() -> None:
    two = rules.replay([rules.ParcelRegistered(2, "forest_land", 500.0),
                        rules.RightGranted(20, 2, "contract", 100, D0, D1, "C20")], _base())
    merged = rules.apply(two, rules.ParcelsMerged((1, 2), 3, 1500.0, (rules.RightGranted(30, 3, "contract", 100, D0, D1,
                                                                                    "C30"),)))
    assert merged.parcels[3].area_m2 == 1500.0 and merged.parcels[3].parents == (1, 2)
    other = rules.replay([rules.ParcelRegistered(2, "forest_land", 500.0),
                          rules.RightGranted(20, 2, "contract", 999, D0, D1, "C20")], _base())
    with pytest.raises(rules.RuleError, match="same holder"):
        rules.apply(other, rules.ParcelsMerged((1, 2), 3, 1500.0, ()))


def test_events_survive_their_storage() -> None:
    events = [rules.ParcelRegistered(1, "forest_land", 1000.0), rules.RightGranted(10, 1, "contract", 100, D0, D1, "C"),
              rules.RightLocked(10, rules.Lock("L", "lease", "合作社", D1, "ref")), rules.LockReleased(10, "L"),
              rules.ParcelSplit(1, ((2, 500.0), (3, 500.0)), (rules.RightGranted(11, 2, "contract", 100, D0, D1, "A"),
                                                            rules.RightGranted(12, 3, "contract", 100, D0, D1, "B")))]
    import json

    stored = [json.loads(json.dumps(rules.to_record(e))) for e in events]
    assert [rules.from_record(kind, data) for kind, data in stored] == events


# -- the rules as a state machine ------------------------------------------------------------------------------

class Registry(RuleBasedStateMachine):
    """Any sequence of registrations, transfers, locks, releases, splits and merges keeps: the area of the active
    parcels (registered minus nothing) constant through splits and merges; a locked right never changes holder;
    the state reached step by step equal to the replay of the accepted events."""

    parcels = Bundle("parcels")
    rights = Bundle("rights")

    def __init__(self) -> None:
        super().__init__()
        self.state = rules.State()
        self.history: list[rules.Event] = []
        self.next_id = 1
        self.registered_area = 0.0

    def _new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _try(self, event: rules.Event) -> bool:
        before = self.state
        try:
            self.state = rules.apply(self.state, event)
        except rules.RuleError:
            assert self.state is before
            return False
        self.history.append(event)
        return True

    @rule(target=parcels, area=st.floats(1.0, 1e6), kind=st.sampled_from(["forest_land", "farmland"]))
    def register(self, area: float, kind: str) -> int:
        pid = self._new_id()
        assert self._try(rules.ParcelRegistered(pid, kind, area))
        self.registered_area += area
        return pid

    @rule(target=rights, parcel=parcels, holder=st.integers(1, 4))
    def grant(self, parcel: int, holder: int) -> int:
        rid = self._new_id()
        self._try(rules.RightGranted(rid, parcel, "contract", holder, D0, D1, f"C{rid}"))
        return rid

    @rule(right=rights, holder=st.integers(1, 4))
    def transfer(self, right: int, holder: int) -> None:
        before = self.state.rights.get(right)
        accepted = self._try(rules.RightTransferred(right, holder))
        if before is not None and before.locks:
            assert not accepted and self.state.rights[right].holder_id == before.holder_id

    @rule(right=rights, kind=st.sampled_from(sorted(rules.LOCK_KINDS)))
    def lock(self, right: int, kind: str) -> None:
        self._try(rules.RightLocked(right, rules.Lock(f"L{self._new_id()}", kind, "bank")))

    @rule(right=rights)
    def release(self, right: int) -> None:
        r = self.state.rights.get(right)
        if r is not None and r.locks:
            assert self._try(rules.LockReleased(right, r.locks[0].id))

    @rule(parcel=consumes(parcels), share=st.floats(0.05, 0.95), target=parcels)
    def split(self, parcel: int, share: float) -> object:
        p = self.state.parcels.get(parcel)
        if p is None or not p.active:
            return parcel
        a, b = self._new_id(), self._new_id()
        carried = tuple(rules.RightGranted(self._new_id(), new, r.type, r.holder_id, r.start, r.end, f"C{self.next_id}")
                        for new in (a, b) for r in self.state.rights_on(parcel))
        if self._try(rules.ParcelSplit(parcel, ((a, p.area_m2 * share), (b, p.area_m2 * (1 - share))), carried)):
            return multiple(a, b)
        return parcel

    @rule(one=parcels, other=parcels)
    def merge(self, one: int, other: int) -> None:
        p, q = self.state.parcels.get(one), self.state.parcels.get(other)
        if one == other or p is None or q is None or not (p.active and q.active):
            return
        new = self._new_id()
        seen = {r.type: r for r in self.state.rights_on(one)}
        carried = tuple(rules.RightGranted(self._new_id(), new, r.type, r.holder_id, r.start, r.end, f"C{self.next_id}")
                        for r in seen.values())
        self._try(rules.ParcelsMerged((one, other), new, p.area_m2 + q.area_m2, carried))

    @invariant()
    def area_is_conserved(self) -> None:
        active = sum(p.area_m2 for p in self.state.parcels.values() if p.active)
        assert active == pytest.approx(self.registered_area, rel=1e-9)

    @invariant()
    def the_state_is_the_replay_of_the_accepted_events(self) -> None:
        assert rules.replay(self.history) == self.state


TestRegistryRules = Registry.TestCase
TestRegistryRules.settings = settings(max_examples=60, stateful_step_count=30, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow])


# -- the service: tables equal the replay, split and merge with geometry --------------------------------------

@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    tmp = tmp_path_factory.mktemp("registry")
    return build(f"sqlite:///{tmp / 'gep.db'}", tmp)


def test_the_tables_say_what_the_history_adds_up_to(platform: Platform) -> None:
    pid, rid = one_parcel(platform, pixel_box(3, 5, 0, 2), "S1")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        holder = service.find_or_add_holder(s, platform.region_id, "person", "李四")
        service.transfer(s, rid, holder.id, CLERK, "CERT-S1-B")
        lock = service.lock(s, rid, "pledge", "丽水农商银行", CLERK, date(2030, 1, 1))
        service.release(s, rid, lock, CLERK)
        left, right = pixel_box(3, 5, 0, 1), pixel_box(3, 5, 1, 2)
        parts = service.split(s, pid, [left, right], ["S1-a", "S1-b"], CLERK)
        assert [round(p.area_m2) for p in parts] == [20000, 20000]
        merged = service.merge(s, [p.id for p in parts], ["S1-m"], CLERK)
        assert merged.area_m2 == pytest.approx(40000.0)
        assert service.rights_on(s, [merged.id])[0].holder_id == holder.id
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        assert service.projected_state(s, platform.region_id) == service.replay_state(s, platform.region_id)
        kinds = [e.kind for e in service.history(s, merged.id)]
    assert kinds[:3] == ["ParcelRegistered", "RightGranted", "RightTransferred"] and kinds[-1] == "ParcelsMerged"


def test_a_split_must_cover_the_parcel_exactly(platform: Platform) -> None:
    pid, _ = one_parcel(platform, pixel_box(3, 4, 2, 4), "S2")
    with pytest.raises(Exception, match="cover the parcel exactly"), unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.split(s, pid, [pixel_box(3, 4, 2, 3), pixel_box(3, 4, 2, 4)], ["x1", "x2"], CLERK)


def test_a_stale_version_is_refused(platform: Platform) -> None:
    _, rid = one_parcel(platform, pixel_box(4, 5, 2, 4), "S3")
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        version = service.get_right(s, rid).version
        other = service.find_or_add_holder(s, platform.region_id, "person", "王五")
        service.transfer(s, rid, other.id, CLERK, expected_version=version)
    with pytest.raises(Conflict, match="has changed since you read it"), unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        service.lock(s, rid, "pledge", "bank", CLERK, expected_version=version)


# -- VEP --------------------------------------------------------------------------------------------------------

def _surface(platform: Platform) -> vep.Surface:
    with unit_of_work(platform.factory) as s:  # type: ignore[arg-type]
        run = regions.latest_runs(s, platform.region_id)[2019]
        return vep.surface(run.id, run.output_dir, run.year, run.price_year, run.method)


def test_the_vep_of_a_village_outline_is_the_villages_gep(platform: Platform) -> None:
    table = pd.read_parquet(platform.accounts / "accounts.parquet")
    surface = _surface(platform)
    for code, geom in (("100101001001", pixel_box(0, 3, 0, 4)), ("100101002002", pixel_box(3, 6, 4, 8))):
        got = vep.value(surface, geom)
        want = table[(table.level == "village") & (table.zone_code == code)].groupby("category").value_yuan.sum()
        for category in ("material", "regulating", "cultural"):
            assert getattr(got, category) == pytest.approx(want.get(category, 0.0), rel=1e-6, abs=1e-3), category
        assert got.pixels == 12 and got.area_m2 == pytest.approx(120000.0)
    whole = vep.value(surface, pixel_box(0, 6, 0, 8))
    assert whole.gep == pytest.approx(table[table.level == "city"].value_yuan.sum(), rel=1e-6)


def test_the_vep_of_part_of_a_village_takes_its_pixels_and_its_share_of_the_statistics(platform: Platform) -> None:
    table = pd.read_parquet(platform.accounts / "accounts.parquet")
    surface = _surface(platform)
    half = pixel_box(0, 3, 0, 2)  # 6 of the village's 12 pixels, half of its area
    got = vep.value(surface, half)
    village = table[(table.level == "village") & (table.zone_code == "100101001001")]
    stats = village[village.source_level != "pixel"].value_yuan.sum()
    import rasterio

    with rasterio.open(platform.accounts / "value_density_2019.tif") as src:
        density = src.read(1)[0:3, 0:2].astype(float)  # yuan/ha of those very pixels, each 1 ha
    assert got.pixels == 6
    assert got.pixel_part == pytest.approx(density.sum(), rel=1e-6)
    assert got.zone_part == pytest.approx(stats / 2, rel=1e-9)
    assert vep.value(surface, shapely.Point(500_050, 3_099_950)).gep == 0.0  # a point has no area


# -- two clients at once on PostgreSQL -------------------------------------------------------------------------

def _race(url: str, work: object, n: int = 2) -> list[object]:
    barrier = threading.Barrier(n)
    out: list[object] = []

    def go(i: int) -> None:
        engine = make_engine(url)
        try:
            with unit_of_work(session_factory(engine)) as s:
                barrier.wait()
                out.append(work(s, i))  # type: ignore[operator]
        except Conflict as exc:
            out.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.fixture
def pg_platform(pg_url: str, tmp_path: Path) -> Iterator[Platform]:
    yield build(pg_url, tmp_path, with_accounts=False)


def test_two_clients_transferring_or_pledging_one_right_get_one_success_on_postgresql(pg_platform: Platform) -> None:
    for round_ in range(5):
        _, rid = one_parcel(pg_platform, pixel_box(0, 1, round_, round_ + 1), f"C{round_}")
        with unit_of_work(pg_platform.factory) as s:  # type: ignore[arg-type]
            a = service.find_or_add_holder(s, pg_platform.region_id, "person", f"甲{round_}").id
            b = service.find_or_add_holder(s, pg_platform.region_id, "person", f"乙{round_}").id
            version = service.get_right(s, rid).version
        transfers = _race(pg_platform.url, lambda s, i, rid=rid, to=(a, b), v=version: service.transfer(
            s, rid, to[i], CLERK, expected_version=v).holder_id)
        assert sorted(isinstance(o, Conflict) for o in transfers) == [False, True], transfers
        pledges = _race(pg_platform.url, lambda s, i, rid=rid: service.lock(s, rid, "pledge", f"银行{i}", CLERK))
        assert sorted(isinstance(o, Conflict) for o in pledges) == [False, True], pledges
        assert "locked" in str(next(o for o in pledges if isinstance(o, Conflict)))
    with unit_of_work(pg_platform.factory) as s:  # type: ignore[arg-type]
        assert service.projected_state(s, pg_platform.region_id) == service.replay_state(s, pg_platform.region_id)


# -- the service as a state machine: the tables always say what the history adds up to -----------------------

class ServiceRegistry(RuleBasedStateMachine):
    """Random transfers, pledges, releases, splits and merges through the service on a database: after every
    step the tables equal the replay of the stored history, area is conserved, and a refused step changes
    nothing."""

    rights = Bundle("rights")

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.p = build(f"sqlite:///{self.tmp.name}/g.db", Path(self.tmp.name), with_accounts=False)
        self.area = 0.0
        self.n = 0

    def teardown(self) -> None:
        self.tmp.cleanup()

    def _do(self, work: object) -> bool:
        try:
            with unit_of_work(self.p.factory) as s:  # type: ignore[arg-type]
                work(s)  # type: ignore[operator]
        except Conflict:
            return False
        return True

    @rule(target=rights, row=st.integers(0, 5), col=st.integers(0, 3))
    def register(self, row: int, col: int) -> int:
        self.n += 1
        geom = pixel_box(row, row + 1, 2 * col, 2 * col + 2)
        try:
            _, rid = one_parcel(self.p, geom.buffer(-1.0 * self.n), f"Q{self.n}")  # shrinking: never overlapping
        except Conflict:  # a parcel on a cell taken already
            return -1
        self.area += geom.buffer(-1.0 * self.n).area
        return rid

    @rule(right=rights, holder=st.sampled_from(["甲", "乙"]))
    def transfer(self, right: int, holder: str) -> None:
        def work(s: object) -> None:
            h = service.find_or_add_holder(s, self.p.region_id, "person", holder)  # type: ignore[arg-type]
            service.transfer(s, right, h.id, CLERK)  # type: ignore[arg-type]
        if right > 0:
            self._do(work)

    @rule(right=rights)
    def pledge(self, right: int) -> None:
        if right > 0:
            self._do(lambda s: service.lock(s, right, "pledge", "银行", CLERK))

    @rule(right=rights)
    def release(self, right: int) -> None:
        if right <= 0:
            return
        with unit_of_work(self.p.factory) as s:  # type: ignore[arg-type]
            locks = service.locks_of(s, [right]).get(right, [])
        if locks:
            assert self._do(lambda s: service.release(s, right, locks[0].id, CLERK))

    @rule(right=rights)
    def split(self, right: int) -> None:
        if right <= 0:
            return
        with unit_of_work(self.p.factory) as s:  # type: ignore[arg-type]
            r = service.get_right(s, right)
            parcel = service.get_parcel(s, r.parcel_id)
            geom = shapely.from_wkb(parcel.geometry)
        minx, miny, maxx, maxy = geom.bounds
        mid = (minx + maxx) / 2
        parts = [geom.intersection(shapely.box(minx, miny, mid, maxy)), geom.intersection(shapely.box(mid, miny,
                                                                                                      maxx, maxy))]
        self.n += 1
        self._do(lambda s: service.split(s, parcel.id, parts, [f"S{self.n}a", f"S{self.n}b"], CLERK))

    @invariant()
    def tables_equal_the_replay_and_area_is_conserved(self) -> None:
        with unit_of_work(self.p.factory) as s:  # type: ignore[arg-type]
            projected = service.projected_state(s, self.p.region_id)
            assert projected == service.replay_state(s, self.p.region_id)
            active = sum(p.area_m2 for p in projected.parcels.values() if p.active)
        assert active == pytest.approx(self.area, rel=1e-9)


TestServiceRegistry = pytest.mark.slow(ServiceRegistry.TestCase)
TestServiceRegistry.settings = settings(max_examples=8, stateful_step_count=12, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
