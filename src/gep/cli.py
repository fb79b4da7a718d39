"""The `gep` command: demo, account, indicators, method, ecosystems."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gep.errors import GepError

app = typer.Typer(help="gep — GEP accounting and ecological product value realization (Lishui model).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
method_app = typer.Typer(help="Method profiles: indicator sets, parameters and prices with their sources.")
app.add_typer(method_app, name="method")
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
                   price_year: int | None, density: bool) -> Path:
    """Load, account and write; shared by `gep account` and `gep demo`."""
    from gep.accounting.region import load_region
    from gep.accounting.run import account

    region = load_region(region_dir)
    year = year or region.years[-1]
    out = out or Path("out") / region.id / str(year)
    with _progress() as bar:
        accounts = account(region, year, method=method, price_year=price_year, progress=RichProgress(bar))
        bar.console.print(f"writing {out}")
        accounts.write(out, density=density)
    _print_summary(accounts.table, accounts.metadata)
    return out


def _print_summary(table: object, metadata: dict) -> None:
    import pandas as pd

    assert isinstance(table, pd.DataFrame)
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
) -> None:
    """Account GEP for every zone at every level and write the accounts (and, with --report, the report)."""
    try:
        written = run_accounting(region, year, method, out, price_year, density)
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
    try:
        out = run_accounting(region_dir, 2019, None, workdir / "accounts" / "2019", None, True)
        comparison = compare_with_published(read_accounts(out))
        (out.parent / "comparison.json").write_text(json.dumps(comparison, ensure_ascii=False, indent=2), "utf-8")
        console.print(comparison["text_en"])
        for lang in ("zh", "en"):
            _report([out], None, lang, FORMATS_DEFAULT)
        console.print(f"demo accounts: [bold]{out}[/bold] (accounts.xlsx, accounts.csv, accounts.parquet, "
                      "metadata.json, zones.csv, zones.gpkg, ecosystems.csv, value_density_2019.tif, report/)")
        url = f"sqlite:///{(workdir / 'gep.db').resolve()}"
        password = _load_demo_platform(url, region_dir, out)
    except GepError as exc:
        _fail(exc)
    console.print(f"platform database: {workdir / 'gep.db'}; demo administrator [bold]admin[/bold], "
                  f"password [bold]{password}[/bold] (shown once; a new one is set on every `gep demo`)")
    if serve and not os.environ.get("GEP_NO_SERVE"):
        _serve(url, workdir / "data", host, port)


def _load_demo_platform(url: str, region_dir: Path, accounts_dir: Path) -> str:
    """Migrate the demo database, (re)set the demo admin, import the region and register its accounts."""
    import secrets

    from sqlalchemy import select

    from gep.auth import service as auth
    from gep.auth.models import User
    from gep.db import make_engine, session_factory, unit_of_work, upgrade
    from gep.regions import service as regions
    from gep.regions.models import AccountingRun, Region

    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    password = secrets.token_urlsafe(12)
    with unit_of_work(factory) as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        if admin is None:
            org = auth.create_organisation(s, "丽水市生态环境局（演示）", "government")
            auth.create_user(s, "admin", password, "admin", "演示管理员", org.id)
        else:
            auth.set_password(s, admin, password)
        region = s.scalar(select(Region).where(Region.code == "lishui"))
        if region is None:
            region = regions.import_region(s, region_dir, auth.SYSTEM)
        region_id = region.id
        has_run = s.scalar(select(AccountingRun).where(AccountingRun.region_id == region_id,
                                                       AccountingRun.status == "succeeded"))
    if has_run is None:
        regions.register_accounts(factory, region_id, accounts_dir, auth.SYSTEM)
    engine.dispose()
    return password


def _serve(url: str, data_dir: Path, host: str, port: int) -> None:
    import uvicorn

    from gep.web.app import Settings, create_app

    console.print(f"serving the platform at [bold]http://{host}:{port}/[/bold] (Ctrl-C to stop)")
    uvicorn.run(create_app(Settings(database_url=url, data_dir=data_dir)), host=host, port=port, log_level="info")


@app.command("serve")
def serve_cmd(
    database_url: Annotated[str | None, typer.Option(help="default: GEP_DATABASE_URL or sqlite:///gep.db")] = None,
    data_dir: Annotated[Path, typer.Option(help="where runs write their accounts and reports")] = Path("gep-data"),
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Start the platform (migrating the database to the newest schema first)."""
    from gep.db import default_url, upgrade

    url = database_url or default_url()
    upgrade(url)
    _serve(url, data_dir, host, port)


db_app = typer.Typer(help="The platform database.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(database_url: Annotated[str | None, typer.Option()] = None, revision: str = "head") -> None:
    """Apply the migrations (SQLite or PostgreSQL)."""
    from gep.db import default_url, upgrade

    upgrade(database_url or default_url(), revision)
    console.print("database is at the newest schema" if revision == "head" else f"database at {revision}")


user_app = typer.Typer(help="Platform users.")
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, analyst, cooperative_manager, enterprise_user, bank_officer, "
                                           "villager or viewer")] = "admin",
    database_url: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(help="default: asked for (not echoed)")] = None,
) -> None:
    """Create a user (the first administrator, typically)."""
    from gep.auth import service as auth
    from gep.db import default_url, make_engine, session_factory, unit_of_work, upgrade

    url = database_url or default_url()
    upgrade(url)
    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(session_factory(make_engine(url))) as s:
            auth.create_user(s, username, secret, role)
    except GepError as exc:
        _fail(exc)
    console.print(f"user [bold]{username}[/bold] ({role}) created")


def _mount_invest() -> None:
    from gep.invest.cli import invest_app

    app.add_typer(invest_app, name="invest", help="Run InVEST datastacks with gep (InVEST-compatible outputs).")


_mount_invest()

region_app = typer.Typer(help="Regions on the platform.")
app.add_typer(region_app, name="region")


@region_app.command("import")
def region_import(path: Path, database_url: Annotated[str | None, typer.Option()] = None) -> None:
    """Validate a region package and store its region and zones in the platform database."""
    from gep.auth import service as auth
    from gep.db import default_url, make_engine, session_factory, unit_of_work, upgrade
    from gep.regions import service as regions

    url = database_url or default_url()
    upgrade(url)
    try:
        with unit_of_work(session_factory(make_engine(url))) as s:
            region = regions.import_region(s, path, auth.SYSTEM)
            console.print(f"region [bold]{region.code}[/bold] imported (id {region.id})")
    except GepError as exc:
        _fail(exc)


@app.command("worker")
def worker_cmd(
    database_url: Annotated[str | None, typer.Option()] = None,
    data_dir: Annotated[Path, typer.Option()] = Path("gep-data"),
) -> None:
    """Execute queued accounting runs (for servers started with GEP_JOB_MODE=queue)."""
    from gep.db import default_url, make_engine, session_factory
    from gep.jobs import work_forever

    url = database_url or default_url()
    console.print(f"worker waiting for queued runs in {url}")
    work_forever(session_factory(make_engine(url)), data_dir)


@app.command("indicators")
def indicators_cmd(as_json: Annotated[bool, typer.Option("--json", help="print the SPECs as JSON")] = False) -> None:
    """List the indicators and their SPEC (inputs, parameters with units, formula, reference)."""
    from dataclasses import asdict

    from gep.accounting.indicators import REGISTRY

    if as_json:
        console.print_json(json.dumps([asdict(cls.SPEC) for cls in REGISTRY.values()], ensure_ascii=False))
        return
    t = Table(title="GEP indicators")
    for col in ("id", "中文名", "name", "category", "inputs", "parameters", "outputs"):
        t.add_column(col)
    for cls in REGISTRY.values():
        s = cls.SPEC
        inputs = ", ".join([*s.layers, *(f"{x}?" for x in s.optional_layers), *s.statistics])
        params = ", ".join(f"{p.name} [{p.unit}]" for p in s.parameters)
        outputs = ", ".join(f"{o.id} [{o.unit}]" for o in s.outputs)
        t.add_row(s.id, s.name_zh, s.name_en, s.category, inputs, params, outputs)
    console.print(t)


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
    console.print(f"[bold]{p.id}[/bold]: {p.name_zh}\n{p.name_en}\n{p.description}")
    console.print(f"indicators: {', '.join(p.indicators)}")
    t = Table(title="parameters and prices")
    for col in ("parameter", "value", "unit", "year", "verified", "source"):
        t.add_column(col, overflow="fold")
    for q in p.parameters.values():
        value = ", ".join(f"{k}={v:g}" for k, v in q.value.items()) if isinstance(q.value, dict) else f"{q.value:g}"
        t.add_row(q.id, value, q.unit, str(q.year or ""), "yes" if q.verified else "[red]no[/red]",
                  q.source + (f" ({q.note})" if q.note else ""))
    console.print(t)
    console.print(f"price index: {p.price_index.source} (verified: {p.price_index.verified})")


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
