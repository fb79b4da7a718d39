"""The accounts: a tidy table of quantities and values per zone, level, year and indicator, with provenance.

Written atomically: everything goes to a temporary folder beside the target, which replaces the target only
when complete, so a failed run leaves the previous output (or nothing) and never half a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import xlsxwriter

from gep.errors import N_, InputError

COLUMNS = ["year", "level", "zone_code", "zone_name", "parent_code", "zone_area_km2", "category", "indicator",
           "indicator_zh", "sub_indicator", "sub_indicator_zh", "quantity", "unit", "value_yuan", "unit_price",
           "price_unit", "method", "price_year", "source_level", "proxy"]

HEADERS_ZH = {
    "year": "年份", "level": "层级", "zone_code": "区划代码", "zone_name": "区划名称", "parent_code": "上级代码",
    "zone_area_km2": "面积(km²)", "category": "类别", "indicator": "指标代码", "indicator_zh": "核算指标",
    "sub_indicator": "子指标代码", "sub_indicator_zh": "子指标", "quantity": "功能量", "unit": "单位",
    "value_yuan": "价值量(元)", "unit_price": "单价", "price_unit": "单价单位", "method": "核算方法",
    "price_year": "价格基准年", "source_level": "数据来源层级", "proxy": "分配代理",
}
LEVEL_ZH = {"city": "市", "county": "县", "township": "乡镇", "village": "村"}
CATEGORY_ZH = {"material": "物质产品", "regulating": "调节服务", "cultural": "文化服务"}


@dataclass
class Accounts:
    table: pd.DataFrame
    metadata: dict[str, Any]
    zones: pd.DataFrame  # every zone of every level with its areas
    ecosystems: pd.DataFrame = field(default_factory=pd.DataFrame)  # level, zone_code, ecosystem, area_km2
    geometry: gpd.GeoDataFrame | None = field(default=None, repr=False)  # lowest-level polygons with all codes
    density: Callable[[Path], None] | None = field(default=None, repr=False)  # writes value-density rasters
    uncertainty: pd.DataFrame | None = None  # level, zone_code, indicator (or "gep"), value_yuan, p05, p50, p95 …

    def totals(self, level: str = "city") -> pd.DataFrame:
        """GEP and its categories per zone of a level, in yuan."""
        sub = self.table[self.table["level"] == level]
        wide = sub.pivot_table(index=["zone_code", "zone_name"], columns="category", values="value_yuan",
                               aggfunc="sum", fill_value=0.0)
        wide["gep"] = wide.sum(axis=1)
        return wide.reset_index()

    def gep(self, zone_code: str | None = None) -> float:
        """Total GEP (yuan) of a zone, by default the top zone."""
        top = self.table[self.table["level"] == self.table["level"].iloc[0]] if zone_code is None else \
            self.table[self.table["zone_code"] == zone_code]
        return float(top["value_yuan"].sum())

    def write(self, out: Path, formats: tuple[str, ...] = ("parquet", "csv", "xlsx"), density: bool = False) -> Path:
        """Write every output into `out` atomically; returns `out`."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            self._write_into(tmp, formats, density)
            _replace_dir(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return out

    def _write_into(self, folder: Path, formats: tuple[str, ...], density: bool) -> None:
        if "parquet" in formats:
            self.table.to_parquet(folder / "accounts.parquet", index=False)
        if "csv" in formats:
            self.table.to_csv(folder / "accounts.csv", index=False, encoding="utf-8")
        self.zones.to_csv(folder / "zones.csv", index=False, encoding="utf-8")
        self.ecosystems.to_csv(folder / "ecosystems.csv", index=False, encoding="utf-8")
        if self.uncertainty is not None:
            self.uncertainty.to_csv(folder / "uncertainty.csv", index=False, encoding="utf-8")
        if self.geometry is not None:
            self.geometry.to_file(folder / "zones.gpkg", layer="zones", driver="GPKG")
        if "xlsx" in formats:
            self._write_xlsx(folder / "accounts.xlsx")
        (folder / "metadata.json").write_text(json.dumps(self.metadata, ensure_ascii=False, indent=2, default=str),
                                              encoding="utf-8")
        if density and self.density is not None:
            self.density(folder)

    def _write_xlsx(self, path: Path) -> None:
        zh = self.table.copy()
        zh["level"] = zh["level"].map(LEVEL_ZH).fillna(zh["level"])
        zh["category"] = zh["category"].map(CATEGORY_ZH).fillna(zh["category"])
        zones = self.zones.rename(columns={"level": "层级", "zone_code": "区划代码", "zone_name": "区划名称",
                                           "parent_code": "上级代码", "pixels": "像元数",
                                           "area_km2": "栅格面积(km²)", "polygon_area_km2": "矢量面积(km²)"})
        params = pd.DataFrame(self.metadata.get("parameters", [])).rename(columns={
            "id": "参数", "value": "取值", "unit": "单位", "year": "价格年份", "source": "来源",
            "verified": "已核实", "note": "备注", "overridden_by": "覆盖来源", "status": "来源状态",
            "range": "合理范围", "range_relative": "范围为整表乘数", "range_reason": "范围依据"})
        skipped = pd.DataFrame(self.metadata.get("skipped", [])).rename(columns={"indicator": "指标", "reason": "原因"})
        notes = pd.DataFrame({"说明": self.metadata.get("notes", [])})
        with xlsxwriter.Workbook(str(path), {"constant_memory": True, "nan_inf_to_errors": True}) as book:
            _sheet(book, "核算结果", zh.rename(columns=HEADERS_ZH))
            _sheet(book, "区划", zones)
            _sheet(book, "参数与价格", params)
            if not skipped.empty:
                _sheet(book, "未核算指标", skipped)
            if self.uncertainty is not None:
                _sheet(book, "不确定性", self.uncertainty.rename(columns={
                    "level": "层级", "zone_code": "区划代码", "indicator": "指标代码", "value_yuan": "价值量(元)",
                    "p05": "5%分位", "p50": "中位数", "p95": "95%分位", "mean": "均值", "std": "标准差"}))
            _sheet(book, "说明", notes)


def _sheet(book: xlsxwriter.Workbook, name: str, frame: pd.DataFrame) -> None:
    """One sheet: a bold header row, then the rows as plain values (fast path, constant memory)."""
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, list(frame.columns), book.add_format({"bold": True}))
    sheet.freeze_panes(1, 0)
    for r, row in enumerate(frame.itertuples(index=False), start=1):
        sheet.write_row(r, 0, [_cell(v) for v in row])


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value


# what a folder of accounts written by gep holds (anything else in it is the user's, and is never deleted)
ACCOUNT_FILES = frozenset({"accounts.parquet", "accounts.csv", "accounts.xlsx", "zones.csv", "zones.gpkg",
                           "ecosystems.csv", "metadata.json", "report",
                           "uncertainty.csv"})


def is_accounts_folder(folder: Path) -> bool:
    """Whether `folder` holds earlier accounts of gep and nothing else (its own files and report only)."""
    names = {p.name for p in folder.iterdir()}
    if "metadata.json" not in names:
        return False
    try:
        meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(meta, dict) or not {"region", "year", "method"} <= set(meta):
        return False
    return all(n in ACCOUNT_FILES or (n.startswith("value_density_") and n.endswith(".tif")) for n in names)


def check_target(out: Path, overwrite: bool = False) -> None:
    """Refuse, before anything is computed, an output folder that would lose the user's files: one that holds
    anything but earlier accounts of gep (a region package, one's own files), or earlier accounts unless
    `overwrite`; and one that cannot be written to."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(N_("{folder} is a file, not a folder; choose a new folder for the accounts"),
                          folder=str(out))
    if out.is_dir() and any(out.iterdir()):
        if (out / "region.toml").exists():
            raise InputError(N_("{folder} is a region package; the accounts go to a folder of their own"),
                              folder=str(out))
        if not is_accounts_folder(out):
            raise InputError(N_("{folder} holds files that are not gep's accounts; choose a new or empty folder "
                                 "(nothing was written)"), folder=str(out))
        if not overwrite:
            raise InputError(N_("{folder} holds earlier accounts; pass --overwrite to replace them, or choose "
                                 "another folder"), folder=str(out))
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".gep-write-check-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(N_("cannot write into {folder}: {error}"), folder=str(parent),
                          error=exc.strerror or str(exc)) from None


def _replace_dir(new: Path, target: Path) -> None:
    """Put `new` in place of `target` with renames only (atomic on one filesystem for the final step). Only
    earlier accounts are ever replaced: a folder holding anything else is left alone and the write refused."""
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not is_accounts_folder(target))):
        raise InputError(N_("{folder} holds files that are not gep's accounts; choose a new or empty folder "
                             "(nothing was written)"), folder=str(target))
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, target)


def read_accounts(folder: Path) -> Accounts:
    """Load accounts written by `Accounts.write` (for the report and the platform)."""
    folder = Path(folder)
    table = pd.read_parquet(folder / "accounts.parquet")
    zones = pd.read_csv(folder / "zones.csv", dtype={"zone_code": str, "parent_code": str}) \
        if (folder / "zones.csv").exists() else pd.DataFrame()
    metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    ecosystems = pd.read_csv(folder / "ecosystems.csv", dtype={"zone_code": str}) \
        if (folder / "ecosystems.csv").exists() else pd.DataFrame()
    geometry = gpd.read_file(folder / "zones.gpkg", layer="zones") if (folder / "zones.gpkg").exists() else None
    spread = pd.read_csv(folder / "uncertainty.csv", dtype={"zone_code": str}) \
        if (folder / "uncertainty.csv").exists() else None
    return Accounts(table, metadata, zones, ecosystems, geometry, uncertainty=spread)
