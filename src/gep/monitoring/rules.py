"""Pure rules of monitoring: the station kinds and their parameters (from ``data/monitoring.toml``), checking a
table of readings (unknown stations and parameters, units, text in numbers, impossible values, duplicate
timestamps — every problem named by its row), the gaps in a series, the episodes in which a parameter passed its
limit, and the losses of each ecosystem group between two land-cover maps with the alerts they call for.

All of it works on whole columns (pandas/numpy), so a year of hourly readings for hundreds of stations is checked
in seconds."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gep.errors import N_, Problem

DATA = Path(__file__).resolve().parent / "data" / "monitoring.toml"
COLUMNS = ("station", "time", "parameter", "value", "unit")
LOCAL_TZ = "Asia/Shanghai"  # a time written without an offset is Beijing time, as Chinese stations report
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Parameter:
    code: str
    name_zh: str
    name_en: str
    units: tuple[str, ...]
    factor: dict[str, float]
    min: float
    max: float
    plausible_max: float | None
    limit: float | None
    limit_min: float | None

    @property
    def unit(self) -> str:
        return self.units[0]

    def scale(self, unit: str) -> float | None:
        """The factor that turns a value in `unit` into the parameter's unit; None for a unit not accepted."""
        if unit not in self.units:
            return None
        return self.factor.get(unit, 1.0)


@dataclass(frozen=True)
class Kind:
    code: str
    name_zh: str
    name_en: str
    department: str
    interval_minutes: int
    parameters: dict[str, Parameter]


@dataclass(frozen=True)
class Rule:
    group: str
    department: str
    hectares: float
    share: float


@dataclass(frozen=True)
class Config:
    kinds: dict[str, Kind]
    departments: dict[str, dict[str, Any]]
    change: dict[str, Rule]
    patrols: dict[str, dict[str, str]]
    feed_coverage: float = 0.75
    feed: dict[str, str] = field(default_factory=dict)  # monitoring parameter -> compensation parameter


@lru_cache(maxsize=1)
def config() -> Config:
    data = tomllib.loads(DATA.read_text(encoding="utf-8"))
    kinds = {}
    for code, k in data["kinds"].items():
        params = {p: Parameter(p, v["name_zh"], v["name_en"], tuple(v["units"]), dict(v.get("factor", {})),
                               float(v["min"]), float(v["max"]), v.get("plausible_max"), v.get("limit"),
                               v.get("limit_min"))
                  for p, v in k["parameters"].items()}
        kinds[code] = Kind(code, k["name_zh"], k["name_en"], k["department"], int(k["interval_minutes"]), params)
    change = {g: Rule(g, r["department"], float(r["hectares"]), float(r["share"])) for g, r in data["change"].items()}
    return Config(kinds, data["departments"], change, data["patrols"], float(data["feed"]["min_coverage"]),
                  dict(data["feed"]["parameters"]))


def parameter(kind: str, code: str) -> Parameter | None:
    k = config().kinds.get(kind)
    return k.parameters.get(code) if k else None


# -- a table of readings ------------------------------------------------------------------------------------------

@dataclass
class Station:
    id: int
    code: str
    kind: str
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)  # parameter -> {"limit"|"limit_min"}

    def limits(self, p: Parameter) -> tuple[float | None, float | None]:
        own = self.thresholds.get(p.code, {})
        return own.get("limit", p.limit), own.get("limit_min", p.limit_min)


@dataclass
class Checked:
    """Readings that passed, as columns: station id, parameter, time (UTC), value in the parameter's unit, flag,
    and the row each came from."""

    frame: pd.DataFrame
    problems: list[Problem]
    problem_count: int


def _where(row: int, column: str) -> tuple[str, dict[str, Any]]:
    return N_("row {row}, {field}"), {"row": row, "field": column}


def check_readings(raw: pd.DataFrame, stations: dict[str, Station], first_row: int = 2) -> Checked:
    """Check a table of readings (columns station, time, parameter, value, unit; text) all at once. Each problem
    is named by its row (`first_row` is the row of the first record: 2 in a file with a header)."""
    problems: list[Problem] = []
    count = 0
    n = len(raw)
    rows = np.arange(first_row, first_row + n)
    bad = np.zeros(n, dtype=bool)

    def report(mask: np.ndarray, column: str, message: str, values: pd.Series | None = None, **params: Any) -> None:
        nonlocal count
        idx = np.flatnonzero(mask & ~bad)
        count += len(idx)
        for i in idx[: max(0, MAX_PROBLEMS - len(problems))]:
            where, wp = _where(int(rows[i]), column)
            extra = {"value": str(values.iloc[i])} if values is not None else {}
            problems.append(Problem(where, message, **wp, **params, **extra))
        bad[idx] = True

    station = raw["station"].astype(str).str.strip()
    parameter_col = raw["parameter"].astype(str).str.strip().str.lower()
    unit = raw["unit"].astype(str).str.strip()
    text = raw["value"].astype(str).str.strip()
    known = station.isin(stations.keys()).to_numpy()
    report(~known, "station", N_("unknown station {value}"), station)
    kinds = station.map({c: s.kind for c, s in stations.items()})
    pairs = kinds.fillna("") + "/" + parameter_col
    allowed = {f"{k}/{p}" for k, kind in config().kinds.items() for p in kind.parameters}
    expected_by_kind = {k: ", ".join(kind.parameters) for k, kind in config().kinds.items()}
    unknown_param = ~pairs.isin(allowed).to_numpy()
    if unknown_param.any():
        for kind_code, expected in expected_by_kind.items():
            report(unknown_param & (kinds == kind_code).to_numpy(), "parameter",
                   N_("{value} is not measured at a station of this kind (expected {expected})"), parameter_col,
                   expected=expected)
    when = parse_times(raw["time"])
    report(when.isna().to_numpy(), "time", N_("not a time (YYYY-MM-DD HH:MM, Beijing time unless an offset is "
                                              "given): “{value}”"), raw["time"].astype(str))
    value = pd.to_numeric(text, errors="coerce")
    report((value.isna() | ~np.isfinite(value.fillna(0))).to_numpy(), "value", N_("a number is expected, not "
                                                                                  "“{value}”"), text)
    scale = np.full(n, np.nan)
    lo, hi, plaus = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.inf)
    units_expected = {}
    for kind_code, kind in config().kinds.items():
        for p in kind.parameters.values():
            sel = (pairs == f"{kind_code}/{p.code}").to_numpy()
            if not sel.any():
                continue
            for u in p.units:
                scale[sel & (unit == u).to_numpy()] = p.scale(u)
            lo[sel], hi[sel] = p.min, p.max
            plaus[sel] = p.plausible_max if p.plausible_max is not None else np.inf
            units_expected[f"{kind_code}/{p.code}"] = ", ".join(p.units)
    no_unit = np.isnan(scale)
    for key, expected in units_expected.items():
        report(no_unit & (pairs == key).to_numpy(), "unit", N_("unit {value} is not accepted for this parameter "
                                                               "(expected {expected})"), unit, expected=expected)
    converted = value.to_numpy(dtype=np.float64) * np.where(no_unit, 1.0, scale)
    outside = ((converted < lo) | (converted > hi)) & ~np.isnan(converted)
    for kind_code, kind in config().kinds.items():
        for p in kind.parameters.values():
            sel = outside & (pairs == f"{kind_code}/{p.code}").to_numpy()
            if sel.any():
                report(sel, "value", N_("{value} is impossible for {parameter} (possible: {min} to {max} {unit})"),
                       text, parameter=p.code, min=f"{p.min:g}", max=f"{p.max:g}", unit=p.unit)
    frame = pd.DataFrame({"station_id": station.map({c: s.id for c, s in stations.items()}),
                          "parameter": parameter_col, "at": when, "value": converted,
                          "flag": (converted > plaus).astype(np.int8), "row": rows})
    key = frame[["station_id", "parameter", "at"]]
    dup = key.duplicated(keep=False).to_numpy() & ~bad
    if dup.any():
        firsts = frame[dup].groupby(["station_id", "parameter", "at"])["row"].transform("min")
        later = frame[dup]["row"] != firsts
        mask = np.zeros(n, dtype=bool)
        mask[np.flatnonzero(dup)[later.to_numpy()]] = True
        first_of = np.zeros(n, dtype=np.int64)
        first_of[np.flatnonzero(dup)] = firsts.to_numpy()
        idx = np.flatnonzero(mask & ~bad)
        count += len(idx)
        for i in idx[: max(0, MAX_PROBLEMS - len(problems))]:
            where, wp = _where(int(rows[i]), "time")
            problems.append(Problem(where, N_("the same station, parameter and time as row {other}"), **wp,
                                    other=int(first_of[i])))
        bad[idx] = True
    return Checked(frame[~bad].reset_index(drop=True), problems, count)


def parse_times(column: pd.Series) -> pd.Series:
    """ISO times in UTC: those with an offset (Z, +08:00) as given, those without as Beijing time; NaT where the
    text is no time."""
    text = column.astype(str).str.strip()
    offset = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if offset.any():
        out[offset] = pd.to_datetime(text[offset], errors="coerce", format="ISO8601", utc=True)
    if (~offset).any():
        naive = pd.to_datetime(text[~offset], errors="coerce", format="ISO8601")
        out[~offset] = naive.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return out


def _ns(times: pd.Series) -> np.ndarray:
    """Times (aware or naive) as int64 nanoseconds since the epoch, UTC: arithmetic without Timestamp objects."""
    return np.asarray(pd.DatetimeIndex(times).as_unit("ns").asi8, dtype=np.int64)


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")


def gaps(times: pd.Series, interval_minutes: int) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """Holes in a series: (last time before, first time after, readings missing) where two readings are more than
    one interval apart."""
    t = np.unique(_ns(times))
    if len(t) < 2:
        return []
    step = interval_minutes * 60 * 1_000_000_000
    d = np.diff(t)
    return [(_stamp(t[i]), _stamp(t[i + 1]), int(np.rint(d[i] / step)) - 1) for i in np.flatnonzero(d > step * 1.5)]


@dataclass(frozen=True)
class Episode:
    start: pd.Timestamp
    end: pd.Timestamp
    count: int
    worst: float
    limit: float
    below: bool  # an "at least" limit (dissolved oxygen): the worst is the lowest


def episodes(times: pd.Series, values: pd.Series, limit: float | None, limit_min: float | None,
             interval_minutes: int) -> list[Episode]:
    """Runs of readings beyond a limit; readings beyond it less than two intervals apart are one episode."""
    out: list[Episode] = []
    ns = _ns(times)
    order = np.argsort(ns, kind="stable")
    t, v = ns[order], np.asarray(values, dtype=np.float64)[order]
    for lim, below in ((limit, False), (limit_min, True)):
        if lim is None:
            continue
        idx = np.flatnonzero(v < lim if below else v > lim)
        if not len(idx):
            continue
        split = np.diff(t[idx]) > 2 * interval_minutes * 60 * 1_000_000_000
        starts = np.concatenate([[0], np.flatnonzero(split) + 1])
        ends = np.concatenate([starts[1:], [len(idx)]])
        for a, b in zip(starts, ends, strict=True):
            part = idx[a:b]
            worst = float(v[part].min() if below else v[part].max())
            out.append(Episode(_stamp(t[part[0]]), _stamp(t[part[-1]]), len(part), worst, float(lim), below))
    return out


def month_bounds(year: int, month: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A calendar month in Beijing time, as UTC instants [start, end)."""
    start = pd.Timestamp(year=year, month=month, day=1, tz=LOCAL_TZ)
    return start.tz_convert("UTC"), (start + pd.offsets.MonthBegin(1)).tz_convert("UTC")


def months_of(times: pd.Series) -> list[tuple[int, int]]:
    """The Beijing-time calendar months the times fall in."""
    local = pd.DatetimeIndex(times).tz_convert(LOCAL_TZ)
    return sorted(set(zip(local.year.tolist(), local.month.tolist(), strict=True)))


# -- land-cover change ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    zone: str
    group: str
    before_ha: float
    after_ha: float
    lost_ha: float
    gained_ha: float
    to: dict[str, float]  # where the lost area went: group -> ha

    @property
    def share(self) -> float:
        return self.lost_ha / self.before_ha if self.before_ha else 0.0


def losses(counts: np.ndarray, zones: list[str], groups: list[str], pixel_ha: float) -> list[Loss]:
    """Per zone and group, from a (zone, before, after) count cube whose last index on both class axes is 'no
    class': the area before and after, what was lost (before this group, after another), gained, and where it
    went."""
    out = []
    g = len(groups)
    for z, code in enumerate(zones):
        cube = counts[z]
        for k, group in enumerate(groups):
            before = cube[k, :].sum() * pixel_ha
            after = cube[:, k].sum() * pixel_ha
            lost = (cube[k, :].sum() - cube[k, k]) * pixel_ha
            gained = (cube[:, k].sum() - cube[k, k]) * pixel_ha
            if not before and not after:
                continue
            to = {groups[j] if j < g else "none": float(cube[k, j] * pixel_ha) for j in range(cube.shape[1])
                  if j != k and cube[k, j]}
            out.append(Loss(code, group, float(before), float(after), float(lost), float(gained), to))
    return out


def alerts_for(found: list[Loss]) -> list[tuple[Loss, Rule]]:
    """The losses that pass their group's threshold (hectares, or a share of what the zone had)."""
    rules = config().change
    out = []
    for loss in found:
        rule = rules.get(loss.group)
        if rule is None or loss.lost_ha <= 0:
            continue
        if loss.lost_ha >= rule.hectares or loss.share >= rule.share:
            out.append((loss, rule))
    return out
