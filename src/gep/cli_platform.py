"""The platform's commands: serve, worker, db, user, region import, demo seeding, and the translation tools."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gep.errors import N_, GepError, InputError

console = Console()
DataDir = Annotated[Path | None, typer.Option(help="where runs write their accounts and reports (GEP_DATA_DIR)")]
DbUrl = Annotated[str | None, typer.Option(help="default: GEP_DATABASE_URL or sqlite:///gep.db")]


def _fail(exc: Exception) -> None:
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    raise typer.Exit(code=2)


def _url(database_url: str | None) -> str:
    from gep.db import default_url

    return database_url or default_url()


def _data_dir(data_dir: Path | None) -> Path:
    return data_dir or Path(os.environ.get("GEP_DATA_DIR", "gep-data"))


def serve(url: str, data_dir: Path, host: str, port: int) -> None:
    """Serve the platform (and, unless GEP_JOB_MODE=queue, run its worker inside the process)."""
    import uvicorn

    from gep.app import Settings, create_app
    from gep.kit.logs import configure

    configure()
    settings = Settings(database_url=url, data_dir=data_dir)
    console.print(f"serving the platform at [bold]http://{host}:{port}/[/bold] (Ctrl-C to stop); "
                  f"{'worker inside the process' if settings.job_mode == 'inline' else 'runs wait for `gep worker`'}")
    forwarded = os.environ.get("GEP_FORWARDED_ALLOW_IPS", "127.0.0.1")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, proxy_headers=True, access_log=False,
                forwarded_allow_ips=forwarded)


def serve_cmd(database_url: DbUrl = None, data_dir: DataDir = None,
              host: str = "127.0.0.1", port: int = 8000) -> None:
    """Start the platform (migrating the database to the newest schema first)."""
    from gep.migrations import upgrade

    url = _url(database_url)
    upgrade(url)
    serve(url, _data_dir(data_dir), host, port)


def worker_cmd(database_url: DbUrl = None, data_dir: DataDir = None) -> None:
    """Run queued tasks (accounting runs, timers, event deliveries) until stopped (SIGTERM hands a running job
    back to the queue). Any number of workers may run side by side."""
    from gep.app import Settings, build_platform, services
    from gep.db import make_engine, session_factory
    from gep.kit.logs import configure
    from gep.kit.worker import Worker

    configure()
    url = _url(database_url)
    settings = Settings(database_url=url, data_dir=_data_dir(data_dir))
    worker = Worker(build_platform(), session_factory(make_engine(url)), services(settings))
    from sqlalchemy.engine import make_url

    shown = make_url(url).render_as_string(hide_password=True)  # never a password in a log
    console.print(f"worker {worker.name} waiting for tasks in {shown}")
    worker.run_forever()


db_app = typer.Typer(help="The platform database.")


@db_app.command("upgrade")
def db_upgrade(database_url: DbUrl = None, revision: str = "heads") -> None:
    """Apply the migrations of the core and of every domain (SQLite or PostgreSQL)."""
    from gep.migrations import upgrade

    upgrade(_url(database_url), revision)
    console.print("database is at the newest schema" if revision == "heads" else f"database at {revision}")


user_app = typer.Typer(help="Platform users.")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, analyst, cooperative_manager, enterprise_user, bank_officer, "
                                           "villager or viewer")] = "admin",
    database_url: DbUrl = None,
    password: Annotated[str | None, typer.Option(help="default: asked for (not echoed)")] = None,
) -> None:
    """Create a user (the first administrator, typically)."""
    from gep.app import build_platform
    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM
    from gep.migrations import upgrade

    url = _url(database_url)
    upgrade(url)
    secret = password or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        with unit_of_work(session_factory(make_engine(url))) as s:
            user = auth.create_user(s, username, secret, role, SYSTEM, roles=build_platform().roles)
            name = user.username
    except GepError as exc:
        _fail(exc)
    console.print(f"user [bold]{name}[/bold] ({role}) created")


region_app = typer.Typer(help="Regions on the platform.")


@region_app.command("import")
def region_import(path: Path, database_url: DbUrl = None) -> None:
    """Validate a region package and store its region and zones in the platform database."""
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM
    from gep.migrations import upgrade
    from gep.regions import service as regions

    url = _url(database_url)
    upgrade(url)
    try:
        with unit_of_work(session_factory(make_engine(url))) as s:
            region = regions.import_region(s, path, SYSTEM)
            console.print(f"region [bold]{region.code}[/bold] imported (id {region.id})")
    except GepError as exc:
        _fail(exc)


@region_app.command("new")
def region_new(
    zones: Annotated[Path, typer.Argument(help="the county's zones: GPKG, SHP or GeoJSON, any CRS")],
    rasters: Annotated[Path, typer.Option(help="a folder of rasters; layer and year are guessed from file names")],
    out: Annotated[Path, typer.Option(help="the new package folder")],
    region_id: Annotated[str, typer.Option("--id", help="short id of the region, used in file names")],
    name: Annotated[str, typer.Option(help="the region's name, e.g. 某某县")],
    resolution: Annotated[float, typer.Option(help="pixel size of the accounting grid, metres")] = 30.0,
    column: Annotated[list[str] | None, typer.Option(help="map a level column: city_code=SHI_DM (repeatable)")]
    = None,
    classes: Annotated[Path | None, typer.Option(help="ecosystem_classes.csv mapping land-cover codes")] = None,
    method: Annotated[str, typer.Option(help="method profile")] = "zhejiang-2020",
    link: Annotated[bool, typer.Option(help="link the rasters instead of copying them")] = False,
) -> None:
    """Start a region package from a county's own zones and rasters, with an equal-area CRS centred on the zones,
    and validate it at once."""
    from gep.accounting.region import load_region
    from gep.accounting.scaffold import scaffold

    mapping = {}
    for item in column or []:
        key, sep, value = item.partition("=")
        if not sep:
            _fail(InputError(N_("--column takes level_column=COUNTY_COLUMN, got {value}"), value=item))
        mapping[key.strip()] = value.strip()
    try:
        dest, placed, unknown = scaffold(zones, rasters, out, region_id, name, resolution, mapping, classes, method,
                                         link)
    except GepError as exc:
        _fail(exc)
    for g in placed:
        console.print(f"  {escape(g.path.name)} -> {g.layer}{f' {g.year}' if g.year else ''}", highlight=False)
    for path in unknown:
        console.print(f"  [yellow]not recognised[/yellow] {escape(path.name)}: rename it after its layer "
                      f"(gep ecosystems, docs/region-package.md)", highlight=False)
    console.print(f"package written to [bold]{escape(str(dest))}[/bold]")
    try:
        load_region(dest)
    except GepError as exc:
        console.print("[yellow]still to do before it accounts:[/yellow]")
        _fail(exc)
    console.print("[green]the package is valid[/green]: gep account " + escape(str(dest)))


def seed_demo(url: str, workdir: Path, region_dir: Path, accounts_dirs: list[Path]) -> dict[str, tuple[str, str]]:
    """Migrate the demo database and let every domain seed it, in the order of the domain list."""
    from gep.app import DOMAINS, Settings, build_platform, services
    from gep.db import make_engine, session_factory
    from gep.kit.domain import SeedContext
    from gep.kit.worker import Worker
    from gep.migrations import upgrade

    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    platform = build_platform(DOMAINS)
    worker = Worker(platform, factory, services(Settings(database_url=url, data_dir=workdir / "data")))
    ctx = SeedContext(factory, workdir, region_dir, accounts_dirs, data_dir=workdir / "data",
                      roles=frozenset(platform.roles), drain=worker.drain,
                      say=lambda text: console.print(f"  {escape(text)}", highlight=False))
    try:
        for domain in DOMAINS:
            if domain.seed is not None:
                console.print(f"seeding [bold]{domain.name}[/bold] …")
                domain.seed(ctx)
    finally:
        engine.dispose()
    return ctx.logins


def print_logins(logins: dict[str, tuple[str, str]]) -> None:
    table = Table(title="demo logins (new passwords on every `gep demo`)")
    for col in ("username", "password", "shows"):
        table.add_column(col)
    for username, (password, shows) in logins.items():
        table.add_row(username, password, shows)
    console.print(table)


i18n_app = typer.Typer(help="Translations: gettext catalogues per package (Babel).")


@i18n_app.command("update")
def i18n_update() -> None:
    """Extract the messages of code, templates and scripts and update every package's Chinese catalogue."""
    from gep.i18n_tools import update_all

    for root, (added, obsolete) in update_all().items():
        console.print(f"{root}: {added} new message(s), {obsolete} no longer used")


@i18n_app.command("check")
def i18n_check() -> None:
    """List messages without a Chinese translation, and translations that lost a {field}; exit 1 if any."""
    from gep.i18n_tools import check_all

    problems = check_all()
    for p in problems:
        console.print(escape(p), highlight=False)
    if problems:
        raise typer.Exit(code=1)
    console.print("every message has a Chinese translation")


@i18n_app.command("compile")
def i18n_compile() -> None:
    """Write the binary .mo catalogues beside the .po files (for packagers; gep reads the .po files too)."""
    from gep.i18n_tools import compile_all

    for path in compile_all():
        console.print(str(path))


certificate_app = typer.Typer(help="Certificates the platform signs.")


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[Path, typer.Argument(help="a certificate PDF, or its JSON document")],
    public_key: Annotated[Path | None, typer.Option(help="the platform's public key (PEM, from `gep certificate "
                                                         "public-key`): check offline, without the register")] = None,
    database_url: DbUrl = None,
) -> None:
    """Check a certificate: its signature, and (with the platform's database) that it was issued and not revoked.
    Exit code 0 when it is genuine, 1 when it is not."""
    from gep.certificates import keys, rules, service
    from gep.db import make_engine, session_factory, unit_of_work

    try:
        document = rules.load(file.read_bytes())
    except OSError as exc:
        _fail(exc)
        return
    except GepError as exc:
        _fail(exc)
        return
    payload = document["payload"]
    console.print(f"{escape(str(payload.get('serial')))}: {escape(str(payload.get('title', '')))}", highlight=False)
    for line in payload.get("lines", []):
        console.print(f"  {escape(str(line.get('zh')))} / {escape(str(line.get('en')))}: "
                      f"{escape(str(line.get('value')))}", highlight=False)
    if public_key is not None:
        try:
            raw = keys.public_key_from_pem(public_key.read_bytes(), str(public_key))
        except (OSError, GepError) as exc:
            _fail(exc)
            return
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        check = rules.check_signature(document, {rules.key_id(Ed25519PublicKey.from_public_bytes(raw)): raw})
        status = rules.VALID if check.signature_ok else (rules.TAMPERED if check.key_known else rules.UNKNOWN_KEY)
        note = "  (signature only: revocation is checked against the platform's register, with --database-url)"
    else:
        try:
            with unit_of_work(session_factory(make_engine(_url(database_url)))) as s:
                status = service.verify(s, document).status
        except GepError as exc:
            _fail(exc)
            return
        note = ""
    colour = "green" if status == rules.VALID else "red"
    console.print(f"[{colour}]{_both(rules.VERDICTS[status])}[/{colour}]{note}", highlight=False)
    raise typer.Exit(code=0 if status == rules.VALID else 1)


@certificate_app.command("public-key")
def certificate_public_key(data_dir: DataDir = None) -> None:
    """Print the platform's public signing key (PEM), for verifying certificates offline."""
    from gep.certificates import keys

    print(keys.signer(keys.key_path(_data_dir(data_dir))).public_pem, end="")


carbon_app = typer.Typer(help="Forest carbon: estimates by a methodology, without the database.")


@carbon_app.command("estimate")
def carbon_estimate(
    stands: Annotated[Path, typer.Argument(help="a GeoPackage (or any vector file) of stands: species, "
                                                "project_start, project_end (m³/ha; culms/ha for bamboo), optional "
                                                "baseline_start, baseline_end, area_ha, id")],
    method: Annotated[str, typer.Option("--method", help="a carbon methodology id")] = "bef-provincial-2011",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Estimate each stand's removals (t CO₂e) and the total by a methodology; touches no database. A stand
    without area_ha takes it from its geometry (in a projected CRS)."""
    import json as json_module

    from gep.carbon import stands as stand_file
    from gep.carbon.methodology import estimate, issuable, load

    try:
        m = load(method)
        rows = stand_file.read(stands)
        results = [estimate(r, m) for r in rows]
    except (OSError, GepError) as exc:
        _fail(exc)
        return
    total = sum(e.removals_tco2 for e in results)
    if as_json:
        print(json_module.dumps({"methodology": m.id, "stands": [e.as_dict() for e in results], "total_tco2": total,
                                 "issuable_t": issuable(results), "unverified": m.unverified()}, ensure_ascii=False))
        return
    table = Table(title=f"{m.name_zh} / {m.name_en} ({m.id} v{m.version})")
    for col in ("stand", "species", "area ha", "baseline tCO2e", "project tCO2e", "removals tCO2e"):
        table.add_column(col, justify="left" if col in ("stand", "species") else "right")
    for e in results:
        table.add_row(e.stand, e.species, f"{e.area_ha:,.2f}", f"{e.baseline_tco2:,.2f}", f"{e.project_tco2:,.2f}",
                      f"{e.removals_tco2:,.2f}")
    table.add_row("total", "", f"{sum(e.area_ha for e in results):,.2f}", "", "", f"{total:,.2f}")
    console.print(table)
    console.print(f"issuable: {issuable(results):,} t CO₂e (whole tonnes)")
    unverified = m.unverified()
    if unverified:
        console.print(f"[yellow]unverified parameters ({len(unverified)}): {', '.join(unverified[:8])}"
                      f"{' …' if len(unverified) > 8 else ''}[/yellow]", highlight=False)


trace_app = typer.Typer(help="Trace chains of the regional brand's batches.")


@trace_app.command("verify")
def trace_verify(
    batch: Annotated[list[str] | None, typer.Option("--batch", help="a batch number (repeat); default: every batch")
                     ] = None,
    file: Annotated[Path | None, typer.Option(help="a chain document (from the batch page's “chain (JSON)”): "
                                                   "check it offline, with --public-key")] = None,
    public_key: Annotated[Path | None, typer.Option(help="the platform's public key (PEM, `gep certificate "
                                                         "public-key`); default: the keys in the database")] = None,
    database_url: DbUrl = None,
) -> None:
    """Check batches' trace chains: every record's hash, link and signature, and the signed head. Names each
    place a chain does not hold; exit code 0 when all hold, 1 when one does not."""
    import json as json_module

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from gep.brands import rules as trace_rules
    from gep.brands import service as brands
    from gep.certificates import keys
    from gep.certificates import rules as cert_rules
    from gep.db import make_engine, session_factory, unit_of_work

    key_map: dict[str, bytes] | None = None
    try:
        if public_key is not None:
            raw = keys.public_key_from_pem(public_key.read_bytes(), str(public_key))
            key_map = {cert_rules.key_id(Ed25519PublicKey.from_public_bytes(raw)): raw}
        results: list[tuple[str, int, list[trace_rules.Break]]] = []
        if file is not None:
            if key_map is None:
                _fail(GepError("--file needs --public-key (the chain is checked offline)"))
                return
            name, recs, head = brands.parse_export(json_module.loads(file.read_text(encoding="utf-8")))
            results.append((name, len(recs), trace_rules.verify_chain(name, recs, head, key_map)))
        else:
            with unit_of_work(session_factory(make_engine(_url(database_url)))) as s:
                rows = [brands.batch_by_no(s, b) for b in batch] if batch else brands.batches(s)
                for row in rows:
                    results.append((row.batch_no, len(brands.records(s, row.id)), brands.verify(s, row, key_map)))
    except (OSError, ValueError, GepError) as exc:
        _fail(exc)
        return
    bad = 0
    for name, length, breaks in results:
        if not breaks:
            console.print(f"[green]✓[/green] {escape(name)}: {length} records, intact", highlight=False)
            continue
        bad += 1
        console.print(f"[red]✗ {escape(name)}: the chain does not hold[/red]", highlight=False)
        for b in breaks:
            console.print(f"    {escape(_both(b.message).format(**b.params))}", highlight=False)
    console.print(f"{len(results)} chain(s) checked, {bad} broken", highlight=False)
    raise typer.Exit(code=1 if bad else 0)


def _both(msgid: str) -> str:
    """A message in Chinese and in English (commands have no page language)."""
    from gep.app import build_platform

    zh = build_platform().catalogues.gettext("zh")(msgid)
    return f"{zh} / {msgid}" if zh != msgid else msgid


def install(app: typer.Typer) -> None:
    """Add the platform's commands to the `gep` command."""
    app.command("serve")(serve_cmd)
    app.command("worker")(worker_cmd)
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.add_typer(region_app, name="region")
    app.add_typer(i18n_app, name="i18n")
    app.add_typer(certificate_app, name="certificate")
    app.add_typer(carbon_app, name="carbon")
    app.add_typer(trace_app, name="trace")
    from gep import cli_operations

    cli_operations.install(app)
