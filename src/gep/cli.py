"""The `gep` command: demo, account, report, indicators, method, ecosystems, invest; and the platform's
(serve, worker, db, user, region, i18n: gep.cli_platform)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gep import cli_platform as platform
from gep.errors import GepError

if TYPE_CHECKING:
    import pandas as pd

# numba starts without its scipy BLAS probe in this process and the workers it starts (gep.accounting.jit;
# named literally here, since importing that module would import numba for every command)
os.environ.setdefault("GEP_NUMBA_BLAS", "off")

app = typer.Typer(help="gep — GEP accounting and ecological product value realization (Lishui model).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
method_app = typer.Typer(help="Method profiles: indicator sets, parameters and prices with their sources.")
app.add_typer(method_app, name="method")
statistics_app = typer.Typer(help="Statistics of a region package: the Excel template, and figures read from it.")
app.add_typer(statistics_app, name="statistics")
console = Console()


class RichProgress:
    """Shows the stage and, during the one pass, the chunks' tasks as they finish."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None)

    def stage(self, name: str) -> None:
        self.progress.update(self.task, description=name, completed=0, total=None)

    def tasks(self, done: int, total: int) -> None:
        self.progress.update(self.task, completed=done, total=total)


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=False, disable=not sys.stderr.isatty())


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    raise typer.Exit(code=2)


def run_accounting(region_dir: Path, year: int | None, method: str | None, out: Path | None,
                   price_year: int | None, density: bool, overwrite: bool = False,
                   uncertainty: Any = None, scheduler: str | None = None) -> Path:
    """Load, account and write; shared by `gep account` and `gep demo`. The output folder is checked before
    anything is computed: never one holding the user's files, earlier accounts only with `overwrite`."""
    from gep.accounting.accounts import check_target
    from gep.accounting.region import load_region
    from gep.accounting.run import account

    if out is not None:
        check_target(out, overwrite)
    region = load_region(region_dir)
    year = year or region.years[-1]
    if out is None:
        out = Path("out") / region.id / str(year)
        check_target(out, overwrite)
    with _progress() as bar:
        accounts = account(region, year, method=method, price_year=price_year, progress=RichProgress(bar),
                           uncertainty=uncertainty, scheduler=scheduler)
        bar.console.print(f"writing {out}")
        accounts.write(out, density=density)
    _print_summary(accounts.table, accounts.metadata)
    if accounts.uncertainty is not None:
        _print_uncertainty(accounts.uncertainty, accounts.metadata["uncertainty"])
    return out


def _print_uncertainty(spread: pd.DataFrame, info: dict) -> None:
    top = spread[(spread["level"] == spread["level"].iloc[0]) & (spread["indicator"] == "gep")].sum(numeric_only=True)
    console.print(f"GEP 5–95 %: {top['p05'] / 1e8:,.2f} – {top['p95'] / 1e8:,.2f} 亿元 "
                  f"(value {top['value_yuan'] / 1e8:,.2f}; {info['samples']} samples over "
                  f"{len(info['parameters'])} ranged parameters)")
    for r in info["tornado"][:5]:
        console.print(f"  {escape(r['parameter'])}: {r['gep_at_low'] / 1e8:,.2f} – {r['gep_at_high'] / 1e8:,.2f} 亿元",
                      highlight=False)


def _print_summary(table: pd.DataFrame, metadata: dict) -> None:
    top = table[table["level"] == table["level"].iloc[0]]
    by_ind = top.groupby(["category", "indicator", "indicator_zh"], sort=False)["value_yuan"].sum()
    total = float(by_ind.sum())
    t = Table(title=f"GEP {metadata['region']['name']} {metadata['year']} ({metadata['method']['id']}, "
                    f"prices of {metadata['price_year']})")
    t.add_column("category")
    t.add_column("indicator")
    t.add_column("亿元", justify="right")
    t.add_column("%", justify="right")
    for (cat, ind, zh), v in by_ind.items():
        t.add_row(cat, f"{zh} {ind}", f"{v / 1e8:,.2f}", f"{100 * v / total:.1f}" if total else "-")
    t.add_row("", "GEP", f"{total / 1e8:,.2f}", "100.0", style="bold")
    console.print(t)
    for s in metadata.get("skipped", []):
        console.print(f"[yellow]skipped[/yellow] {s['indicator']}: {escape(s['reason'])}", highlight=False)
    for n in metadata.get("notes", []):
        console.print(f"[cyan]note[/cyan] {escape(n)}", highlight=False)


@app.command("account")
def account_cmd(
    region: Annotated[Path, typer.Argument(help="region package folder (docs/region-package.md)")],
    year: Annotated[int | None, typer.Option(help="accounting year (default: the region's latest)")] = None,
    method: Annotated[str | None, typer.Option(help="method profile id or TOML path (default: the region's)")] = None,
    out: Annotated[Path | None, typer.Option(help="output folder (default: out/REGION/YEAR)")] = None,
    price_year: Annotated[int | None, typer.Option(help="value at this year's prices (constant prices)")] = None,
    density: Annotated[bool, typer.Option(help="also write the value-density GeoTIFF (COG, 元/ha)")] = True,
    report: Annotated[bool, typer.Option(help="also write the report (PDF, HTML, XLSX) into OUT/report")] = False,
    lang: Annotated[str, typer.Option(help="report language: zh or en")] = "zh",
    overwrite: Annotated[bool, typer.Option(help="replace earlier accounts in OUT (a folder holding anything "
                                                 "else is never replaced)")] = False,
    uncertainty: Annotated[bool, typer.Option(help="also give every indicator and GEP a 5–95 % range from the "
                                                   "parameters' ranges (Monte Carlo, same pass), and a "
                                                   "tornado")] = False,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples for --uncertainty")] = 64,
    seed: Annotated[int, typer.Option(help="random seed for --uncertainty")] = 0,
    scheduler: Annotated[str | None, typer.Option(help="a Dask distributed scheduler (tcp://host:8786) to run the "
                                                       "pass over the chunks on; its workers must reach the "
                                                       "package's files (docs/accounting.md)")] = None,
) -> None:
    """Account GEP for every zone at every level and write the accounts (and, with --report, the report)."""
    try:
        spec = None
        if uncertainty:
            from gep.accounting.uncertainty import UncertaintySpec

            spec = UncertaintySpec(samples=samples, seed=seed)
        written = run_accounting(region, year, method, out, price_year, density, overwrite, spec, scheduler)
        if report:
            _report([written], None, lang, FORMATS_DEFAULT)
    except GepError as exc:
        _fail(exc)
    console.print(f"accounts written to [bold]{written}[/bold]")


FORMATS_DEFAULT = "pdf,html,xlsx"


def _report(dirs: list[Path], out: Path | None, lang: str, formats: str) -> dict[str, Path]:
    from gep.report import write_report

    with console.status(f"writing the report ({lang}: {formats})"):
        files = write_report(dirs, out, lang=lang, formats=tuple(f.strip() for f in formats.split(",") if f.strip()))
    for fmt, path in files.items():
        console.print(f"report {fmt}: [bold]{path}[/bold]")
    return files


@app.command("report")
def report_cmd(
    accounts: Annotated[list[Path], typer.Argument(help="accounts folder(s) written by `gep account`; several "
                                                         "years add the comparison at constant prices")],
    lang: Annotated[str, typer.Option(help="zh (default) or en")] = "zh",
    fmt: Annotated[str, typer.Option("--format", help="comma-separated: pdf,html,xlsx")] = FORMATS_DEFAULT,
    out: Annotated[Path | None, typer.Option(help="output folder (default: the latest accounts' report/)")] = None,
) -> None:
    """One-click accounting report (一键生成核算报告) from accounts: PDF, offline HTML and XLSX."""
    try:
        _report(accounts, out, lang, fmt)
    except GepError as exc:
        _fail(exc)


def demo_accounts(workdir: Path, resolution: float = 90.0, rebuild: bool = False,
                  following: tuple[int, ...] = (2020, 2021)) -> list[Path]:
    """The demo's first half: the region built (unless there), its 2019 accounts with the comparison with
    Lishui's published GEP and the report in both languages, then two wholly synthetic following years (2020,
    2021; growth, the assessment and rewards compare years), each reported beside the year before at constant
    prices (`following` leaves them out: the engine's tests need 2019 only); returns the accounts folders, 2019
    first."""
    import shutil

    from gep.accounting.accounts import read_accounts
    from gep.demo import build_lishui_region
    from gep.demo.compare import compare_with_published

    region_dir = workdir / "region"
    if rebuild and region_dir.exists():
        shutil.rmtree(region_dir)
    if not (region_dir / "region.toml").exists():
        console.print(f"building the Lishui demo region at {resolution:g} m into {region_dir} …")
        build_lishui_region(region_dir, resolution=resolution)
    out = run_accounting(region_dir, 2019, None, workdir / "accounts" / "2019", None, True, overwrite=True)
    comparison = compare_with_published(read_accounts(out))
    (out.parent / "comparison.json").write_text(json.dumps(comparison, ensure_ascii=False, indent=2), "utf-8")
    console.print(comparison["text_en"])
    for lang in ("zh", "en"):
        _report([out], None, lang, FORMATS_DEFAULT)
    console.print(f"demo accounts: [bold]{out}[/bold] (accounts.xlsx, accounts.csv, accounts.parquet, "
                  "metadata.json, zones.csv, zones.gpkg, ecosystems.csv, value_density_2019.tif, report/)")
    folders = [out]
    for year in following:
        folders.append(run_accounting(region_dir, year, None, workdir / "accounts" / str(year), None, True,
                                      overwrite=True))
        for lang in ("zh", "en"):
            _report(folders[-2:], None, lang, FORMATS_DEFAULT)
        console.print(f"demo year {year} (wholly synthetic): [bold]{folders[-1]}[/bold], its report beside {year - 1}")
    return folders


@app.command("demo")
def demo_cmd(
    workdir: Annotated[Path, typer.Option(help="where the demo region, accounts and database go")] = Path("gep-demo"),
    resolution: Annotated[float, typer.Option(help="grid resolution in metres")] = 90.0,
    rebuild: Annotated[bool, typer.Option(help="rebuild the demo region even if it exists")] = False,
    serve: Annotated[bool, typer.Option(help="serve the platform at the end (env GEP_NO_SERVE=1 turns it off)")] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Build the Lishui demo, account it, write its report, load it into the platform and serve it."""
    import os

    region_dir = workdir / "region"
    try:
        folders = demo_accounts(workdir, resolution, rebuild)
        url = f"sqlite:///{(workdir / 'gep.db').resolve()}"
        logins = platform.seed_demo(url, workdir, region_dir, folders)
    except GepError as exc:
        _fail(exc)
    console.print(f"platform database: {workdir / 'gep.db'}")
    platform.print_logins(logins)
    if serve and not os.environ.get("GEP_NO_SERVE"):
        platform.serve(url, workdir / "data", host, port)


def _mount_invest() -> None:
    from gep.invest.cli import invest_app

    app.add_typer(invest_app, name="invest", help="Run InVEST datastacks with gep (InVEST-compatible outputs).")


_mount_invest()
platform.install(app)

@app.command("indicators")
def indicators_cmd(as_json: Annotated[bool, typer.Option("--json", help="print the SPECs as JSON")] = False) -> None:
    """List the indicators and their SPEC (inputs, parameters with units, formula, reference)."""
    from dataclasses import asdict

    from gep.accounting.indicators import REGISTRY

    if as_json:
        console.print_json(json.dumps([asdict(cls.SPEC) for cls in REGISTRY.values()], ensure_ascii=False))
        return
    for cls in REGISTRY.values():  # one block per indicator: readable in a narrow terminal too
        s = cls.SPEC
        inputs = ", ".join([*s.layers, *(f"{x}?" for x in s.optional_layers), *s.statistics])
        params = ", ".join(f"{p.name} [{p.unit}]" for p in s.parameters)
        outputs = ", ".join(f"{o.id} [{o.unit}]" for o in s.outputs)
        console.print(f"[bold]{escape(s.id)}[/bold]  {escape(s.name_zh)} / {escape(s.name_en)}  ({s.category})",
                      highlight=False)
        for label, text in (("inputs", inputs), ("parameters", params), ("outputs", outputs),
                            ("formula", s.formula), ("reference", s.reference)):
            if text:
                console.print(f"  {label}: {escape(text)}", highlight=False)
    console.print("A layer marked ? is optional. Units are in square brackets. --json gives the same as JSON.")


@method_app.command("list")
def method_list() -> None:
    """List the shipped method profiles."""
    from gep.accounting.methods import available_profiles, load_profile

    for pid in available_profiles():
        p = load_profile(pid)
        console.print(f"[bold]{pid}[/bold]  {p.name_zh} — {p.name_en}")


@method_app.command("show")
def method_show(profile: Annotated[str, typer.Argument(help="profile id or TOML path")]) -> None:
    """Print a profile: its indicators and every parameter with value, unit, year, source and verified flag."""
    from gep.accounting.methods import load_profile

    try:
        p = load_profile(profile)
    except GepError as exc:
        _fail(exc)
    console.print(f"[bold]{escape(p.id)}[/bold]: {escape(p.name_zh)}\n{escape(p.name_en)}\n{escape(p.description)}")
    console.print(f"indicators: {', '.join(p.indicators)}")
    console.print(f"files: {', '.join(p.files)}")
    t = Table(title="parameters and prices")
    for col in ("parameter", "value", "unit", "year", "status", "range", "source"):
        t.add_column(col, overflow="fold")
    colour = {"published": "green", "public_code": "yellow", "not_found": "red"}
    for q in p.parameters.values():
        value = ", ".join(f"{k}={v:g}" for k, v in q.value.items()) if isinstance(q.value, dict) else f"{q.value:g}"
        status = q.status or ("published" if q.verified else "unverified")
        source = q.source + (f" ({q.note})" if q.note else "")
        if q.range_reason:
            source += f" — range: {q.range_reason}"
        t.add_row(escape(q.id), escape(value), escape(q.unit), str(q.year or ""),
                  f"[{colour.get(status, 'red')}]{status}[/]", escape(q.range_text()), escape(source))
    console.print(t)
    counts = {s: sum(1 for q in p.parameters.values() if q.status == s) for s in ("published", "public_code",
                                                                                  "not_found")}
    console.print("status: " + ", ".join(f"{k} {v}" for k, v in counts.items()) +
                  f"; with a range: {sum(1 for q in p.parameters.values() if q.range)} of {len(p.parameters)}")
    for item in p.value_items.values():
        console.print(f"value item {escape(item.id)} ({item.category}, {escape(item.unit)}): {escape(item.name_zh)} — "
                      f"{escape(item.source)}")
    idx = p.price_index
    console.print(f"price index ({'verified' if idx.verified else 'unverified'}): {escape(idx.source)}")
    if idx.values:
        console.print("  " + ", ".join(f"{y}: {v:g}" for y, v in sorted(idx.values.items())))


@statistics_app.command("template")
def statistics_template(
    region: Annotated[Path, typer.Argument(help="region package folder")],
    year: Annotated[int, typer.Option(help="the year the figures are for")],
    out: Annotated[Path, typer.Option(help="the workbook to write (.xlsx)")],
    method: Annotated[str | None, typer.Option(help="method profile (default: the region's)")] = None,
) -> None:
    """Write the Excel template: every statistic the method needs, per level, for every zone."""
    from gep.accounting.region import load_region
    from gep.accounting.template import write_template

    try:
        written = write_template(load_region(region), year, out, method)
    except GepError as exc:
        _fail(exc)
    console.print(f"template written to [bold]{escape(str(written))}[/bold]")


@statistics_app.command("import")
def statistics_import(
    region: Annotated[Path, typer.Argument(help="region package folder")],
    workbook: Annotated[Path, typer.Argument(help="a filled template (.xlsx)")],
    year: Annotated[int, typer.Option(help="the year the figures are for")],
) -> None:
    """Check a filled template and add its new figures to the package (statistics/template_YEAR.csv)."""
    from gep.accounting.region import load_region
    from gep.accounting.template import merge_template, read_template

    try:
        figures = read_template(workbook, load_region(region), year)
        result = merge_template(region, figures, year, workbook.name)
    except GepError as exc:
        _fail(exc)
    console.print(f"{result.added} new figure(s), {result.unchanged} already in the package"
                  + (f"; written to {result.file}" if result.file else ""))
    for m in result.missing:
        console.print(f"[yellow]will be skipped[/yellow] {m['indicator']}: {escape(m['reason'])}", highlight=False)


@app.command("ecosystems")
def ecosystems_cmd() -> None:
    """List the ecosystem type ids that ecosystem_classes.csv maps land-cover codes onto."""
    from gep.accounting.catalogue import ECOSYSTEM_GROUPS, ECOSYSTEMS

    t = Table(title="ecosystem types")
    for col in ("id", "group", "中文名", "name"):
        t.add_column(col)
    for e in ECOSYSTEMS.values():
        t.add_row(e.id, f"{e.group} ({ECOSYSTEM_GROUPS[e.group][0]})", e.name_zh, e.name_en)
    console.print(t)


if __name__ == "__main__":  # pragma: no cover
    app()
