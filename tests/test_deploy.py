"""The production deployment, run: deploy/install.sh brings the stack up and docs/deploy.md shows its commands.

The slow tests run the script on this machine into a temporary folder, in direct mode (no systemd here), with a
system user, a PostgreSQL role and database of their own, the venv the tests run in, a self-signed certificate
and free ports, and one worker. They then use the platform through nginx as a browser would, with TLS checked
against that certificate: log in, upload a tiny region, let the worker account it, fetch its report; then
upgrade, stop, and leave nothing behind (no process, database, role, system user or folder).
"""

from __future__ import annotations

import grp
import io
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sqlalchemy import Engine, create_engine, text

from gep.regions.uploads import LIMITS, MB, Limits
from gep.testing import TinyRegion

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "deploy" / "install.sh"
GUIDE = ROOT / "docs" / "deploy.md"
SITE = ROOT / "deploy" / "nginx" / "gep.conf"
PG_HOST, PG_PORT, PG_SUPERUSER = "127.0.0.1", 5432, "postgres"
ADMIN = "cityadmin"
FINISHED = ("succeeded", "failed", "cancelled")


# -- the guide and the script agree (fast) ------------------------------------------------------------------------

def script_functions(source: str) -> dict[str, str]:
    """Each shell function of the script: its whole text."""
    return {m.group(1): m.group(0) for m in re.finditer(r"^([a-z_]+)\(\) \{.*?^\}\n", source, re.S | re.M)}


def body(function: str) -> str:
    """A function's body, as the guide shows it: without its first and last lines, two spaces less indented."""
    lines = function.splitlines()[1:-1]
    return "".join((line[2:] if line.startswith("  ") else line) + "\n" for line in lines)


def guide_blocks(guide: str) -> dict[str, str]:
    """The guide's blocks marked `<!-- install.sh: NAME -->` (a function's body) or `NAME()` (the function)."""
    return {m.group(1): m.group(2) for m in
            re.finditer(r"<!-- install\.sh: ([a-z_]+(?:\(\))?) -->\n```bash\n(.*?)```", guide, re.S)}


def test_the_guide_shows_the_scripts_steps_verbatim() -> None:
    functions = script_functions(SCRIPT.read_text(encoding="utf-8"))
    blocks = guide_blocks(GUIDE.read_text(encoding="utf-8"))
    steps = {name for name in functions if name.startswith("step_")} | {"settings"}
    assert steps <= set(blocks), f"steps of install.sh missing from docs/deploy.md: {sorted(steps - set(blocks))}"
    for name, block in blocks.items():
        if name.endswith("()"):
            assert block == functions[name[:-2]], f"docs/deploy.md shows another {name} than install.sh"
        else:
            assert block == body(functions[name]), f"docs/deploy.md shows another {name} than install.sh"


def test_nginx_takes_the_largest_upload_the_platform_takes() -> None:
    """nginx's limit is written from the same GEP_UPLOAD_MB the platform reads, with room for the form."""
    assert "client_max_body_size @GEP_NGINX_BODY_MB@m;" in SITE.read_text(encoding="utf-8")
    script = SCRIPT.read_text(encoding="utf-8")
    default = re.search(r'GEP_UPLOAD_MB:=(\d+)', script)
    assert default is not None and int(default.group(1)) * MB == Limits().upload_bytes == LIMITS.upload_bytes
    assert 'GEP_NGINX_BODY_MB:=$((GEP_UPLOAD_MB + 64))' in script
    assert "GEP_UPLOAD_MB=@GEP_UPLOAD_MB@" in (ROOT / "deploy" / "gep.env.example").read_text(encoding="utf-8")
    guide = GUIDE.read_text(encoding="utf-8")
    assert "`GEP_UPLOAD_MB` + 64 MB" in guide and f"({LIMITS.upload_bytes // MB} MB by default)" in guide


# -- the stack, installed ---------------------------------------------------------------------------------------

def free_ports(count: int) -> list[int]:
    """Ports nobody listens on, all different (each held until all are chosen)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def reachable_by_others(path: Path) -> bool:
    """Every folder down to `path` lets other users through (the services run as a user of their own)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


def alive(pid: int) -> bool:
    """The process runs (a zombie, which nobody here reaps, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return not re.search(r"^State:\s*Z", status, re.M)


def processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            match = re.search(r"^Uid:\s*(\d+)", status, re.M)
            if match and int(match.group(1)) == uid and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@dataclass
class Stack:
    prefix: Path
    env: dict[str, str]
    user: str  # the services' system user
    made_user: bool  # made by the script (and so removed afterwards)
    database: str  # also the name of its role
    https_port: int
    http_port: int
    web_port: int
    password: str
    seen_pids: set[int] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def cert(self) -> Path:
        return self.prefix / "etc/gep/tls/gep.crt"

    @property
    def logs(self) -> Path:
        return self.prefix / "var/log/gep"

    def script(self, action: str) -> subprocess.CompletedProcess[str]:
        # settings as options and as environment variables: the script takes both
        options = ["--prefix", str(self.prefix), "--mode=direct", "--existing-venv", sys.prefix]
        return subprocess.run(["bash", str(SCRIPT), action, *options], env=self.env, capture_output=True, text=True,
                              timeout=600, check=False)

    def pids(self) -> dict[str, int]:
        """The processes of the pid files (nginx's master, gep serve, the worker)."""
        found = {p.stem: int(p.read_text().strip()) for p in (self.prefix / "run/gep").glob("*.pid")}
        self.seen_pids |= set(found.values())
        return found

    def client(self, local_address: str | None = None) -> httpx.Client:
        """A client that trusts only the installation's certificate (so TLS is really checked)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        return httpx.Client(base_url=self.url, timeout=60, headers={"Accept-Language": "en"},
                            transport=httpx.HTTPTransport(verify=context, local_address=local_address))

    def log_lines(self, name: str) -> list[dict[str, Any]]:
        lines = (self.logs / name).read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def superuser() -> Engine:
    return create_engine(f"postgresql+psycopg://{PG_SUPERUSER}@{PG_HOST}:{PG_PORT}/postgres",
                         isolation_level="AUTOCOMMIT")


def preconditions() -> None:
    if os.geteuid() != 0:
        pytest.skip("deploy/install.sh makes a system user and folders owned by it: run the tests as root")
    if shutil.which("nginx", path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
        pytest.skip("deploy/install.sh needs Debian's nginx (apt-get install nginx; .ci/run installs it)")
    if not (Path(sys.prefix) / "bin" / "gep").exists():
        pytest.skip(f"the tests' venv {sys.prefix} has no bin/gep to deploy")
    engine = superuser()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means: no PostgreSQL here
        pytest.skip(f"no PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_SUPERUSER}, trust auth): {exc}")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """deploy/install.sh run into a temporary folder; stopped and removed, with its user and database, after."""
    preconditions()
    tag = secrets.token_hex(4)
    prefix = Path(tempfile.mkdtemp(prefix="gep-deploy-"))
    prefix.chmod(0o755)  # the service user and nginx's workers go through it
    # the services run as a user of their own, unless the checkout is where no other user may read it
    user = f"gepdeploy{tag}" if reachable_by_others(Path(sys.prefix)) and reachable_by_others(ROOT) else "root"
    https_port, http_port, web_port = free_ports(3)
    s = Stack(prefix=prefix, env={}, user=user, made_user=user != "root", database=f"gep_deploy_{tag}",
              https_port=https_port, http_port=http_port, web_port=web_port,
              password=f"Gep-{secrets.token_urlsafe(12)}")
    s.env = {k: v for k, v in os.environ.items() if not k.startswith(("GEP_", "PG"))} | {
        "PGHOST": PG_HOST, "PGPORT": str(PG_PORT), "PGUSER": PG_SUPERUSER, "GEP_PG_ADMIN": "",
        "GEP_USER": user, "GEP_DB_ROLE": s.database, "GEP_DB_NAME": s.database, "GEP_CREATE_DB": "1",
        "GEP_DATABASE_URL": f"postgresql+psycopg://{s.database}@{PG_HOST}:{PG_PORT}/{s.database}",
        "GEP_SERVER_NAME": "localhost", "GEP_HTTPS_PORT": str(s.https_port), "GEP_HTTP_PORT": str(s.http_port),
        "GEP_PORT": str(s.web_port), "GEP_WORKERS": "1", "GEP_ADMIN_USER": ADMIN, "GEP_ADMIN_PASSWORD": s.password,
        "GEP_LOG_FILES": "1",
    }
    try:
        done = s.script("install")
        assert done.returncode == 0, f"install.sh failed:\n{done.stdout}\n{done.stderr}"
        s.pids()
        yield s
    finally:
        teardown(s)


def teardown(s: Stack) -> None:
    """Stop what is left (by the script, then by pid), drop the database and role, remove the user and folder."""
    if (s.prefix / "run/gep").exists():
        s.pids()
        s.script("stop")
    leftovers = [pid for pid in s.seen_pids if alive(pid) and started_here(pid, s)]
    if s.made_user:
        leftovers += processes_of(_uid(s.user))
    for pid in leftovers:  # only processes this test started
        os.kill(pid, 9)
    engine = superuser()
    with engine.connect() as conn:
        aside = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :n"),
                             {"n": f"{s.database}_before_restore_%"}).scalars().all()
        for name in [s.database, *aside]:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{s.database}"'))
    engine.dispose()
    if s.made_user and _uid(s.user) >= 0:
        subprocess.run(["userdel", s.user], check=True)
    shutil.rmtree(s.prefix, ignore_errors=True)


def started_here(pid: int, s: Stack) -> bool:
    """The process is still this installation's (its pid was not taken by another since)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return str(s.prefix) in cmdline or f"{sys.prefix}/bin/gep" in cmdline


def _uid(user: str) -> int:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return -1


def login(client: httpx.Client, s: Stack) -> dict[str, str]:
    """Log in as a browser does; the headers a browser sends with every change."""
    r = client.post("/api/auth/login", json={"username": ADMIN, "password": s.password}, headers={"Origin": s.url})
    assert r.status_code == 200, r.text
    return {"Origin": s.url, "X-CSRF-Token": r.json()["csrf_token"]}


# -- the installed stack (slow) ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_folders_files_and_processes_are_as_the_guide_says(stack: Stack) -> None:
    owner = pwd.getpwnam(stack.user)
    data, env_file = stack.prefix / "var/lib/gep", stack.prefix / "etc/gep/gep.env"
    keys = data / "keys"
    for path, mode, uid in ((data, 0o750, owner.pw_uid), (keys, 0o700, owner.pw_uid), (env_file, 0o640, 0)):
        st = path.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (mode, uid), path
    assert env_file.stat().st_gid == grp.getgrnam(stack.user).gr_gid
    assert (keys / "certificate-signing-ed25519.pem").exists()
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line and line[0] != "#")
    assert {k: settings[k] for k in ("GEP_JOB_MODE", "GEP_SECURE_COOKIES", "GEP_FORWARDED_ALLOW_IPS",
                                     "GEP_LOG_FORMAT", "GEP_PUBLIC_URL", "GEP_DATA_DIR")} == {
        "GEP_JOB_MODE": "queue", "GEP_SECURE_COOKIES": "1", "GEP_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "GEP_LOG_FORMAT": "json", "GEP_PUBLIC_URL": f"https://localhost:{stack.https_port}",
        "GEP_DATA_DIR": str(data)}
    assert int(settings["GEP_UPLOAD_MB"]) * MB == LIMITS.upload_bytes
    site = (stack.prefix / "etc/nginx/sites-available/gep").read_text(encoding="utf-8")
    assert f"client_max_body_size {int(settings['GEP_UPLOAD_MB']) + 64}m;" in site
    pids = stack.pids()
    assert set(pids) == {"nginx", "web", "worker-1"}
    for name, args in (("web", f"gep serve --host 127.0.0.1 --port {stack.web_port}"), ("worker-1", "gep worker")):
        cmdline = Path(f"/proc/{pids[name]}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        assert args in cmdline, cmdline
        assert Path(f"/proc/{pids[name]}").stat().st_uid == owner.pw_uid
    units = stack.prefix / "etc/systemd/system"
    assert (units / "gep-worker@.service.d/log-file.conf").exists()  # GEP_LOG_FILES=1
    if shutil.which("systemd-analyze"):  # the units the systemd mode would start, drop-ins too, not started
        check = subprocess.run(["systemd-analyze", "verify", "gep-web.service", "gep-worker@1.service",
                                "gep-backup.service", "gep-backup.timer"],
                               env={**os.environ, "SYSTEMD_UNIT_PATH": f"{units}:"}, capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0 and not check.stderr.strip(), check.stderr
    if shutil.which("logrotate"):
        rotate = subprocess.run(["logrotate", "--debug", "--state", str(stack.prefix / "logrotate.state"),
                                 str(stack.prefix / "etc/logrotate.d/gep")], capture_output=True, text=True,
                                check=False)
        assert rotate.returncode == 0 and not re.search(r"^error:", rotate.stderr, re.M), rotate.stderr


@pytest.mark.slow
def test_https_with_a_checked_certificate_secure_cookies_and_hsts(stack: Stack) -> None:
    with stack.client() as client:
        page = client.get("/login")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert page.headers["strict-transport-security"].startswith("max-age=")
        r = client.post("/api/auth/login", json={"username": ADMIN, "password": stack.password},
                        headers={"Origin": stack.url})
        assert r.status_code == 200, r.text
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("gep_session="))
        assert {"secure", "httponly"} <= {part.strip().lower() for part in cookie.split(";")}, cookie
        assert "strict-transport-security" in r.headers
        assert client.get("/api/auth/me").json()["username"] == ADMIN
        # nginx passes the Host the browser used, so a change from another site is told apart
        other = client.post("/api/auth/logout", headers={"Origin": "https://elsewhere.example",
                                                         "X-CSRF-Token": r.json()["csrf_token"]})
        assert other.status_code == 403, other.text
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"), httpx.Client() as untrusting:
        untrusting.get(f"{stack.url}/login")  # the system's CAs do not know the self-signed certificate
    plain = httpx.get(f"http://127.0.0.1:{stack.http_port}/login?next=/runs")
    assert plain.status_code == 301
    assert plain.headers["location"] == f"https://localhost:{stack.https_port}/login?next=/runs"


TINY_CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
TINY_LAYERS = {"precipitation": np.full((2, 4), 2000.0), "evapotranspiration": np.full((2, 4), 700.0)}


def tiny_region_zip(folder: Path) -> bytes:
    root = TinyRegion(TINY_CLASSES, TINY_LAYERS).write(folder / "tiny")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, f"tiny/{p.relative_to(root)}")
    return buf.getvalue()


@pytest.mark.slow
def test_a_region_uploaded_through_nginx_is_accounted_by_the_worker(stack: Stack, tmp_path: Path) -> None:
    with stack.client() as client:
        headers = login(client, stack)
        up = client.post("/api/regions/uploads", headers=headers,
                         files=[("files", ("tiny.zip", tiny_region_zip(tmp_path), "application/zip"))])
        assert up.status_code == 201, up.text
        started = client.post(f"/api/regions/{up.json()['id']}/runs", json={"year": 2019}, headers=headers)
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        deadline = time.monotonic() + 120
        while (run := client.get(f"/api/runs/{run_id}").json())["status"] not in FINISHED:
            assert time.monotonic() < deadline, f"run {run_id} did not finish in 2 minutes: {run}"
            time.sleep(0.5)
        assert run["status"] == "succeeded", run
        report = client.get(f"/api/runs/{run_id}/report/en.html")
        assert report.status_code == 200 and "text/html" in report.headers["content-type"]
        assert "GEP" in report.text
    # what the services wrote is theirs, and nobody else may change it (UMask=0027, as under systemd)
    written = list((stack.prefix / "var/lib/gep/runs").rglob("*"))
    assert written and all(p.stat().st_uid == pwd.getpwnam(stack.user).pw_uid for p in written)
    assert [p for p in written if p.stat().st_mode & 0o022] == []
    # GEP_JOB_MODE=queue: the worker ran it, the web process only queued it
    done = re.compile(r"task \d+ \(\S+\) done")
    assert any(done.fullmatch(line["message"]) for line in stack.log_lines("worker-1.log"))
    assert not any(done.fullmatch(line["message"]) for line in stack.log_lines("web.log"))


@pytest.mark.slow
def test_the_clients_address_and_the_request_id_reach_the_platform(stack: Stack) -> None:
    stranger = f"nobody{secrets.token_hex(3)}"
    with stack.client(local_address="127.0.0.2") as client:  # another address than nginx's own to the platform
        r = client.post("/api/auth/login", json={"username": stranger, "password": "not-the-password"})
    assert r.status_code == 401, r.text
    request_id = r.json()["request_id"]
    with stack.client() as client:
        login(client, stack)
        refused = [a for a in client.get("/api/audit").json() if a["action"] == "login_failed"
                   and a["entity_id"] == stranger]
    assert [a["detail"].get("ip") for a in refused] == ["127.0.0.2"]
    assert any(line["ctx"] == request_id for line in stack.log_lines("web.log"))
    access = (stack.logs / "nginx-access.log").read_text()
    assert any(line.startswith("127.0.0.2 ") and line.endswith(f" {request_id}") for line in access.splitlines())


@pytest.mark.slow
def test_an_upgrade_restarts_the_services_and_keeps_the_data(stack: Stack) -> None:
    with stack.client() as client:
        login(client, stack)
        runs = client.get("/api/runs").json()
        before = stack.pids()
        done = stack.script("upgrade")
        assert done.returncode == 0, f"install.sh upgrade failed:\n{done.stdout}\n{done.stderr}"
        after = stack.pids()
        assert set(after) == set(before) and all(after[name] != before[name] for name in before)
        assert not any(alive(pid) for pid in before.values())
        # the session made before still holds: the database and the session secret in keys/ were kept
        assert client.get("/api/auth/me").json()["username"] == ADMIN
        assert client.get("/api/runs").json() == runs


@pytest.mark.slow
def test_a_backup_restores_through_the_script_as_it_was(stack: Stack) -> None:
    """The guide's backup and restore (install.sh backup, install.sh restore) on the running stack: after the
    restore the runs, a report and the session made before are there again, and what was set aside is kept."""
    with stack.client() as client:
        login(client, stack)
        runs = client.get("/api/runs").json()
        assert runs, "the accounting test runs first"
        done = stack.script("backup")
        assert done.returncode == 0, f"install.sh backup failed:\n{done.stdout}\n{done.stderr}"
        (archive,) = (stack.prefix / "var/backups/gep").glob("gep-backup-*.tar.gz")
        assert archive.stat().st_uid == pwd.getpwnam(stack.user).pw_uid and archive.stat().st_mode & 0o077 == 0
        stack.env["GEP_RESTORE_ARCHIVE"] = str(archive)
        try:
            done = stack.script("restore")
        finally:
            del stack.env["GEP_RESTORE_ARCHIVE"]
        assert done.returncode == 0, f"install.sh restore failed:\n{done.stdout}\n{done.stderr}"
        stack.pids()
        assert client.get("/api/auth/me").json()["username"] == ADMIN  # sessions and their secret came back
        assert client.get("/api/runs").json() == runs
        report = client.get(f"/api/runs/{runs[0]['id']}/report/en.html")
        assert report.status_code == 200 and "GEP" in report.text
    aside = list((stack.prefix / "var/lib").glob("gep.before-restore-*"))
    assert len(aside) == 1 and (aside[0] / "keys").is_dir()
    engine = superuser()
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE :n"),
                            {"n": f"{stack.database}_before_restore_%"}).scalars().all()
    engine.dispose()
    assert len(kept) == 1


@pytest.mark.slow
def test_stop_leaves_no_process_running(stack: Stack) -> None:
    pids = stack.pids()
    done = stack.script("stop")
    assert done.returncode == 0, f"install.sh stop failed:\n{done.stdout}\n{done.stderr}"
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert list((stack.prefix / "run/gep").glob("*.pid")) == []
    assert not listening(stack.https_port) and not listening(stack.http_port) and not listening(stack.web_port)
    if stack.made_user:
        assert processes_of(_uid(stack.user)) == []
