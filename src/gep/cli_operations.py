"""The operator's commands: backups and their restore, key rotation, and the audit log's chain, export and
retention (docs/deploy.md shows them in a city's deployment)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from gep.cli_platform import DataDir, DbUrl, _data_dir, _fail, _url, console
from gep.errors import GepError


def backup_cmd(
    out: Annotated[Path, typer.Argument(help="a folder (the archive is named gep-backup-<UTC time>.tar.gz) or an "
                                             "archive's file name; never inside the data folder")],
    database_url: DbUrl = None,
    data_dir: DataDir = None,
    keep: Annotated[int | None, typer.Option(help="then delete all but the newest KEEP archives there")] = None,
) -> None:
    """Write one consistent archive of the database and the data folder (accounts, reports, packages, keys), with
    a manifest of SHA-256 hashes. Safe while the platform runs."""
    from gep.app import DOMAINS
    from gep.operations import backup

    try:
        done = backup.take(_url(database_url), _data_dir(data_dir), out, DOMAINS, keep=keep)
    except GepError as exc:
        _fail(exc)
        return
    console.print(f"backup written: [bold]{escape(str(done.path))}[/bold] ({done.size / 1e6:.1f} MB, {done.files} "
                  f"files of the data folder, {done.seconds:.1f} s)", highlight=False)
    for path in done.external:
        console.print(f"also kept, from outside the data folder: {escape(path)}", highlight=False)
    for path in done.missing:
        console.print(f"[yellow]missing[/yellow] (the database names it, but it does not exist): {escape(path)}",
                      highlight=False)
    for name in ("GEP_SIGNING_KEY", "GEP_SESSION_SECRETS"):
        if os.environ.get(name):
            console.print(f"[yellow]not in the archive[/yellow]: {name}={escape(os.environ[name])} (a mounted secret: "
                          "keep it with your secret store)", highlight=False)
    for old in done.pruned:
        console.print(f"pruned {escape(str(old))}", highlight=False)


def restore_cmd(
    archive: Annotated[Path, typer.Argument(help="an archive written by `gep backup`")],
    database_url: DbUrl = None,
    data_dir: DataDir = None,
    moved: Annotated[bool, typer.Option(help="restore into another data folder than the one backed up")] = False,
) -> None:
    """Restore an archive into an empty database and an empty data folder, after checking every hash; then
    migrate the database to this gep's schema. Refuses a damaged archive, one from a newer gep, and a target
    that is not empty, changing nothing."""
    from gep.app import DOMAINS
    from gep.operations import restore

    try:
        done = restore.restore(archive, _url(database_url), _data_dir(data_dir), DOMAINS, moved=moved)
    except GepError as exc:
        _fail(exc)
        return
    m = done.manifest
    console.print(f"restored the backup of {escape(m.created_at)} (gep {escape(m.gep_version)}, {m.dialect}): "
                  f"{done.files} files, {done.seconds:.1f} s"
                  + ("; the database was migrated to this gep's schema" if done.migrated else ""), highlight=False)
    for path in done.put_back:
        console.print(f"put back where it was: {escape(path)}", highlight=False)
    for path in done.kept:
        console.print(f"[yellow]left as it is[/yellow] (it exists; the archive's copy was not used): {escape(path)}",
                      highlight=False)


keys_app = typer.Typer(help="The secrets kept outside the database: the signing key and the session secret.")


@keys_app.command("show")
def keys_show(data_dir: DataDir = None) -> None:
    """Where the secrets are, the signing key's id and the session secret's versions (never the secrets)."""
    from gep.app import make_keys
    from gep.certificates import keys
    from gep.kit import keyring

    folder = _data_dir(data_dir)
    session_path = make_keys(folder)
    signer = keys.signer(keys.key_path(folder))
    versions = [n for n, _ in keyring.session_keys(session_path).versions]
    console.print(f"signing key {signer.key_id}: {escape(str(signer.path))}", highlight=False)
    console.print(f"session secret v{versions[-1]} (accepted: {', '.join(f'v{n}' for n in versions)}): "
                  f"{escape(str(session_path))}", highlight=False)


@keys_app.command("rotate")
def keys_rotate(
    which: Annotated[str, typer.Argument(help="signing | session")],
    retire_old: Annotated[bool, typer.Option(help="session: accept only the new secret (everyone is logged out "
                                                  "and every API token stops working: after a leak)")] = False,
    database_url: DbUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Replace a secret. `signing`: a new Ed25519 key signs from now on; certificates and trace chains signed by
    the old one stay verifiable (its public key stays in the database). `session`: a new secret for new sessions
    and tokens; the old ones keep working unless --retire-old. Running processes pick the change up at once."""
    from gep.app import make_keys
    from gep.certificates import keys
    from gep.certificates import service as certificates
    from gep.db import unit_of_work
    from gep.kit import keyring
    from gep.kit.audit import audit

    folder = _data_dir(data_dir)
    session_path = make_keys(folder)
    factory = _factory(database_url)
    try:
        if which == "signing":
            with unit_of_work(factory) as s:  # the old public key is on record before the private key goes
                certificates.register_key(s, keys.signer(keys.key_path(folder)))
            old, new = keys.rotate(keys.key_path(folder))
            with unit_of_work(factory) as s:
                certificates.register_key(s, new)
                audit(s, None, "rotate_key", "signing_key", new.key_id, replaced=old.key_id)
            console.print(f"signing key {old.key_id} replaced by [bold]{new.key_id}[/bold]", highlight=False)
        elif which == "session":
            found = keyring.rotate(session_path, retire_old=retire_old)
            with unit_of_work(factory) as s:
                audit(s, None, "rotate_key", "session_secret", f"v{found.current}", retired_old=retire_old)
            console.print(f"session secret v{found.current} in use"
                          + ("; the older ones are retired: every session and token made before has ended"
                             if retire_old else "; sessions and tokens made before still work"), highlight=False)
        else:
            raise typer.BadParameter("signing or session", param_hint="WHICH")
    except GepError as exc:
        _fail(exc)


audit_app = typer.Typer(help="The audit log: its tamper-evident chain, export for an external archive, retention.")
EXPORT_COLUMNS = ("seq", "hash", "id", "at", "user_id", "action", "entity", "entity_id", "detail", "note")


def _factory(database_url: str | None) -> Any:
    """Sessions of the platform's database, once it is known to exist at this gep's schema: the operator's
    commands never create a database, and a wrong URL is named rather than met with a traceback."""
    from sqlalchemy import inspect

    from gep.db import make_engine, session_factory

    url = _url(database_url)
    if url.startswith("sqlite"):
        from gep.operations.snapshot import sqlite_path

        if not sqlite_path(url).is_file():
            _fail(ValueError(f"the database {sqlite_path(url)} does not exist (--database-url or GEP_DATABASE_URL)"))
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("audit_log")} if inspect(conn).has_table(
                "audit_log") else set()
    except Exception as exc:  # unreachable server, wrong credentials: said in one line
        _fail(ValueError(f"cannot open the database: {str(exc).splitlines()[0]}"))
    if "seq" not in columns:
        _fail(ValueError("the database is not at this gep's schema: run `gep db upgrade` first"))
    return session_factory(engine)


@audit_app.command("seal")
def audit_seal_cmd(database_url: DbUrl = None, data_dir: DataDir = None) -> None:
    """Chain and sign the audit rows written since the last seal (the worker does this every few minutes)."""
    from gep.certificates import audit_seal
    from gep.db import unit_of_work

    with unit_of_work(_factory(database_url)) as s:
        n = audit_seal.seal_now(s, _data_dir(data_dir))
    console.print(f"{n} audit rows sealed")


@audit_app.command("verify")
def audit_verify_cmd(
    database_url: DbUrl = None,
    data_dir: DataDir = None,
    export: Annotated[list[Path] | None, typer.Option(help="also check that the database still holds the rows of "
                                                           "these exports (JSON lines or CSV), unchanged")] = None,
) -> None:
    """Recompute the chain over every audit row and check the signed seals; exit 1 if anything was deleted or
    changed."""
    from gep.certificates import audit_seal
    from gep.cli_platform import _both
    from gep.db import unit_of_work
    from gep.kit import audit_chain

    try:
        with unit_of_work(_factory(database_url)) as s:
            audit_seal.seal_now(s, _data_dir(data_dir))
        with unit_of_work(_factory(database_url)) as s:
            verdict = audit_chain.verify(s, audit_seal.checker(_data_dir(data_dir)))
            problems = list(verdict.problems)
            for path in export or []:
                problems += audit_chain.check_export(s, read_export(path))
    except (OSError, ValueError, GepError) as exc:
        _fail(exc)
        return
    for p in problems:
        console.print(f"[red]✗[/red] {escape(audit_chain.describe(p, _both))}", highlight=False)
    state = "[green]intact[/green]" if not problems else f"[red]{len(problems)} problem(s)[/red]"
    console.print(f"audit chain {verdict.first_seq}–{verdict.last_seq}: {verdict.checked} rows checked, {state}",
                  highlight=False)
    raise typer.Exit(code=1 if problems else 0)


def read_export(path: Path) -> Iterator[dict[str, Any]]:
    """The rows of an export file, typed as `export_rows` wrote them."""
    import csv
    import json

    with path.open(encoding="utf-8", newline="") as fh:
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(fh):
                yield {**row, "seq": int(row["seq"]), "id": int(row["id"]),
                       "user_id": int(row["user_id"]) if row["user_id"] else None, "detail": json.loads(row["detail"])}
        else:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


@audit_app.command("export")
def audit_export_cmd(
    out: Annotated[Path, typer.Argument(help="a new file: .jsonl (JSON lines) or .csv")],
    everything: Annotated[bool, typer.Option("--all", help="every row kept, not only those since the last "
                                                          "export")] = False,
    database_url: DbUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Write the sealed audit rows (since the last export, by default) with their chain numbers and hashes, for
    an archive kept off the server. The export is recorded, so retention may then delete those rows."""
    import csv
    import hashlib
    import json
    import tempfile

    from gep.certificates import audit_seal
    from gep.db import unit_of_work
    from gep.kit import audit_chain
    from gep.kit.audit import audit

    if out.exists():
        _fail(ValueError(f"{out} exists already; an export never overwrites a file"))
    if out.suffix.lower() not in (".jsonl", ".csv"):
        _fail(ValueError(f"{out.name}: name the export .jsonl or .csv"))
    factory = _factory(database_url)
    with unit_of_work(factory) as s:
        audit_seal.seal_now(s, _data_dir(data_dir))
    with unit_of_work(factory) as s:
        since = 0 if everything else audit_chain.exported_through(s)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        rows, last = 0, None
        with open(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, EXPORT_COLUMNS) if out.suffix.lower() == ".csv" else None
            if writer:
                writer.writeheader()
            for row in audit_chain.export_rows(s, since):
                if writer:
                    writer.writerow({**row, "detail": json.dumps(row["detail"], ensure_ascii=False, sort_keys=True),
                                     "user_id": "" if row["user_id"] is None else row["user_id"]})
                else:
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                rows, last = rows + 1, row
        Path(tmp).replace(out)
        sha = hashlib.sha256(out.read_bytes()).hexdigest()
        if last is not None:
            audit_chain.record_export(s, int(last["seq"]), str(last["hash"]), out.name, sha, rows,
                                      audit_seal.signer_of(s, _data_dir(data_dir)))
        audit(s, None, "export", "audit_log", out.name, rows=rows, sha256=sha, since_seq=since)
    console.print(f"{rows} audit rows written to [bold]{escape(str(out))}[/bold] (SHA-256 {sha[:16]}…)",
                  highlight=False)


@audit_app.command("prune")
def audit_prune_cmd(
    older_than_days: Annotated[int, typer.Option(help="delete rows older than this (at least 183: six months)")],
    database_url: DbUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Delete sealed audit rows older than the retention that an export has covered; the chain stays checkable
    from a checkpoint. (Set GEP_AUDIT_RETENTION_DAYS to have the worker do it.)"""
    from gep.certificates import audit_seal
    from gep.db import unit_of_work
    from gep.kit import audit_chain
    from gep.kit.audit import audit

    try:
        with unit_of_work(_factory(database_url)) as s:
            audit_seal.seal_now(s, _data_dir(data_dir))
            n = audit_chain.prune(s, older_than_days, audit_seal.signer_of(s, _data_dir(data_dir)))
            audit(s, None, "prune", "audit_log", "", rows=n, older_than_days=older_than_days)
    except GepError as exc:
        _fail(exc)
        return
    console.print(f"{n} audit rows deleted (older than {older_than_days} days, exported)")


def install(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
    app.add_typer(keys_app, name="keys")
    app.add_typer(audit_app, name="audit")
