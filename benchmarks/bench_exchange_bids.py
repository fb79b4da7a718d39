"""Bids over HTTP against PostgreSQL: 1,000 bids from 200 concurrent clients, as a user's browser sends them.

    python benchmarks/bench_exchange_bids.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                             [--clients 200] [--bids-per-client 5] [--workers 2] [--rate 100]

The platform runs as `uvicorn gep.app:create_app` (the given number of worker processes, no task worker) on a
fresh PostgreSQL schema with 200 synthetic enterprises, each with an API token, money paid in, and a
registration (deposit held) for two listings open for bidding:

* a multi-unit pay-as-bid auction (the Zhejiang discharge-rights rule): every bid is valid, so all of them must be
  accepted and stored;
* an ascending auction: each client reads the current price and bids it plus the increment, so most bids lose
  the race to another client's and are refused (409) — the contention case.

Each kind of request runs twice: as a burst (all 200 clients at once, each sending its 5 requests back to back:
latency there is mostly the queue in front of two CPU cores) and paced (the same 1,000 requests at random moments
over 1,000/rate seconds, as bids arrive in a real auction). Baseline, measured in the same run under the same
load: `GET /api/health` (the server's floor for a request that touches the database). Reported per phase:
requests, accepted, refused, failed (5xx or no answer), p50/p99 latency and their ratio to the baseline's; per
listing: bids lost (accepted by the server but not on the record), double awards after the close, and whether
the ledger balances. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def schema_url(base: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def drop(base: str, schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def setup(url: str, clients: int) -> dict[str, Any]:
    """Users, tokens, money, and two listings open for bidding with every client registered."""
    from gep.app import build_platform
    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.exchange import bidding, categories, listings
    from gep.kit.audit import now
    from gep.kit.principal import SYSTEM, Principal
    from gep.ledger import service as ledger
    from gep.migrations import upgrade

    upgrade(url)
    f = session_factory(make_engine(url))
    roles = build_platform().roles
    with unit_of_work(f) as s:
        categories.seed(s)
        for code in ("sand_gravel",):
            categories.update(s, code, {"announce_s": 1}, SYSTEM)
        seller_org = auth.create_organisation(s, "基准出让方", "government", SYSTEM)
        seller = auth.create_user(s, "bench-seller", secrets.token_urlsafe(16), "cooperative_manager", SYSTEM,
                                  organisation_id=seller_org.id, roles=roles)
        officer = auth.create_user(s, "bench-officer", secrets.token_urlsafe(16), "exchange_officer", SYSTEM,
                                   roles=roles)
        sp = Principal(seller.id, seller.username, "x", seller_org.id, frozenset({"*"}), "system", party="基准出让方")
        op = Principal(officer.id, officer.username, "x", None, frozenset({"*"}), "system")
        ids = {}
        offers = {
            "multi": listings.Offer("sand_gravel", "基准：多单位竞价", "multi_unit", start_price_fen=400_000,
                                    quantity=10_000, unit="t", max_bids=10),
            "ascending": listings.Offer("sand_gravel", "基准：增价竞价", "ascending", start_price_fen=100_000,
                                        increment_fen=1_000, extension_window_s=0),
        }
        for mode, offer in offers.items():
            x = listings.create(s, offer, sp)
            listings.submit(s, x.id, sp)
            listings.review(s, x.id, True, "", op)
            listings.announce(s, x.id, op)
            x.opens_at, x.closes_at = now() - timedelta(seconds=1), now() + timedelta(hours=2)
            listings.open_if_due(s, x, op)
            ids[mode] = x.id
    tokens = []
    for i in range(clients):
        with unit_of_work(f) as s:
            org = auth.create_organisation(s, f"基准竞买企业{i:03d}", "enterprise", SYSTEM)
            user = auth.create_user(s, f"bench-bidder-{i:03d}", secrets.token_urlsafe(16), "enterprise_user", SYSTEM,
                                    organisation_id=org.id, roles=roles)
            p = Principal(user.id, user.username, "enterprise_user", org.id, frozenset({"*"}), "system",
                          party=org.name)
            ledger.payment_in(s, ledger.funds_of_caller(s, p), 10**12, "bench", SYSTEM, key=f"bench-{i}")
            tokens.append(auth.issue_token(s, user, "bench"))
            for lid in ids.values():
                bidding.register(s, lid, p)
    return {"tokens": tokens, "listings": ids, "factory": f}


def start_server(url: str, port: int, workers: int, data: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, GEP_DATABASE_URL=url, GEP_JOB_MODE="queue", GEP_DATA_DIR=str(data),
               PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    # keep-alive longer than the pauses between phases: a browser keeps its connection, and a phase that opened
    # 200 connections at once would measure the kernel's SYN retries (1 s, 3 s, 7 s), not the platform
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "gep.app:create_app", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers), "--log-level", "warning",
                             "--no-access-log", "--timeout-keep-alive", "600", "--backlog", "4096"], env=env)


async def wait_up(base: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as c:
        for _ in range(300):
            try:
                async with c.get(f"{base}/api/health") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start")


async def phase(base: str, tokens: list[str], per_client: int, make: Any, window: float) -> dict[str, Any]:
    """Every client sends `per_client` requests one after another, all clients at once (`window` 0: a burst), or
    each request at a random moment of the next `window` seconds (paced: the same requests spread out, as they
    arrive in a real auction). `make` builds each request. Each client's connection is opened first, unmeasured.

    The clients are aiohttp's: the load generator shares the two cores with the server, and httpx spent more of
    them than the server did at 200 connections, so the figures measured the client."""
    import aiohttp

    latencies: list[float] = []
    statuses: list[int] = []
    accepted: list[dict[str, Any]] = []
    start = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=len(tokens) + 10, keepalive_timeout=600)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as c:
        async def client(i: int, token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            rng = random.Random(i)
            moments = sorted(rng.uniform(0, window) for _ in range(per_client))
            await start.wait()
            t_start = time.perf_counter()
            for n in range(per_client):
                if window:
                    await asyncio.sleep(max(0.0, t_start + moments[n] - time.perf_counter()))
                method, path, body = await make(c, headers, i, n)
                t0 = time.perf_counter()
                try:
                    sent = headers | {"Idempotency-Key": f"{i}-{n}-{uuid.uuid4().hex[:8]}"} if body is not None \
                        else headers
                    async with c.request(method, path, json=body, headers=sent) as r:
                        statuses.append(r.status)
                        if r.status == 201:
                            accepted.append((await r.json())["bid"])
                        else:
                            await r.read()
                except (TimeoutError, aiohttp.ClientError):
                    statuses.append(0)
                latencies.append(time.perf_counter() - t0)

        async def connect() -> None:
            async with c.get("/api/health") as r:
                await r.read()

        await asyncio.gather(*(connect() for _ in tokens))  # one kept-alive connection per client
        tasks = [asyncio.create_task(client(i, t)) for i, t in enumerate(tokens)]
        t0 = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
    latencies.sort()
    return {"latencies": latencies, "statuses": statuses, "accepted": accepted, "wall": wall,
            "p50": statistics.median(latencies), "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)]}


def check(f: Any, listing_id: int, accepted: list[dict[str, Any]]) -> dict[str, int]:
    """Bids lost, and double awards after a close."""
    from sqlalchemy import func, select

    from gep.db import unit_of_work
    from gep.exchange import bidding, rules
    from gep.exchange.models import Bid, Deal, Listing
    from gep.kit.audit import now
    from gep.kit.principal import SYSTEM
    from gep.ledger import rules as ledger_rules
    from gep.ledger import service as ledger
    from gep.ledger.models import LedgerAccount

    with unit_of_work(f) as s:
        stored = {b.id: b for b in s.scalars(select(Bid).where(Bid.listing_id == listing_id))}
        seqs = sorted(b.seq for b in stored.values())
    lost = sum(1 for b in accepted if b["id"] not in stored) + max(0, len(accepted) - len(stored))
    gaps = int(seqs != list(range(1, len(seqs) + 1)))
    with unit_of_work(f) as s:
        bidding.close(s, listing_id, SYSTEM, at=now() + timedelta(hours=3))
    with unit_of_work(f) as s:
        x = s.get(Listing, listing_id)
        deals = list(s.scalars(select(Deal).where(Deal.listing_id == listing_id)))
        per_bidder = s.execute(select(Deal.registration_id, func.count()).where(Deal.listing_id == listing_id)
                               .group_by(Deal.registration_id)).all()
        bidders = len({b.registration_id for b in stored.values()})
        allowed = 1 if x.mode == "ascending" else rules.winners_count(bidders, x.top_share_pct)
        double = sum(n - 1 for _, n in per_bidder) + max(0, len(deals) - allowed) + int(
            sum(d.quantity for d in deals) > x.quantity)
        accounts = list(s.scalars(select(LedgerAccount)))
        balanced = ledger_rules.balanced(ledger_rules.Book({a.id: ledger._rule_account(a) for a in accounts}, {}))
    return {"lost": lost, "gaps": gaps, "double_awards": double, "deals": len(deals), "balanced": int(balanced)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", default=os.environ.get("GEP_BENCH_DATABASE_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--bids-per-client", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=100, help="requests per second in the paced phases")
    ap.add_argument("--port", type=int, default=8767)
    args = ap.parse_args()
    schema, url = schema_url(args.database_url)
    server = None
    try:
        t0 = time.perf_counter()
        world = setup(url, args.clients)
        print(f"setup: {args.clients} bidders with tokens, money and deposits in {time.perf_counter() - t0:.1f} s")
        base = f"http://127.0.0.1:{args.port}"
        server = start_server(url, args.port, args.workers, Path(tempfile.mkdtemp()))
        asyncio.run(wait_up(base))
        multi, asc = world["listings"]["multi"], world["listings"]["ascending"]

        async def health(c: Any, h: dict[str, str], i: int, n: int) -> tuple[str, str, None]:
            return "GET", "/api/health", None

        async def multi_bid(c: Any, h: dict[str, str], i: int, n: int) -> tuple[str, str, dict[str, Any]]:
            return "POST", f"/api/exchange/listings/{multi}/bids", {
                "price": f"{4000 + random.randint(0, 2000)}.{random.randint(0, 99):02d}", "quantity":
                random.randint(1, 50)}

        async def asc_bid(c: Any, h: dict[str, str], i: int, n: int) -> tuple[str, str, dict[str, Any]]:
            async with c.get(f"/api/exchange/listings/{asc}/bids?after=999999999", headers=h) as r:
                current = await r.json()
            return "POST", f"/api/exchange/listings/{asc}/bids", {"price": current["minimum_next"]}

        window = args.clients * args.bids_per_client / args.rate
        plan = [("burst", 0.0), (f"paced {args.rate:g}/s", window)]
        phases = (("GET /api/health", health, None), ("multi-unit bids", multi_bid, multi),
                  ("ascending bids", asc_bid, asc))
        results: dict[tuple[str, str], dict[str, Any]] = {}
        for how, span in plan:
            for name, make, _ in phases:
                results[how, name] = asyncio.run(phase(base, world["tokens"], args.bids_per_client, make, span))
        checks = {name: check(world["factory"], lid, [b for (_, n), r in results.items() if n == name
                                                    for b in r["accepted"]])
                  for name, _, lid in phases if lid is not None}
        print(f"\n{args.clients} clients × {args.bids_per_client} requests each per phase, {args.workers} server "
              f"worker(s), PostgreSQL; burst: all at once; paced: over {window:.0f} s. Ratios against "
              f"GET /api/health under the same load.\n")
        print(f"{'phase':34} {'req':>5} {'2xx':>5} {'4xx':>5} {'fail':>5} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'p50×':>6} {'p99×':>6} {'req/s':>7}")
        for (how, name), r in results.items():
            st, b = r["statuses"], results[how, "GET /api/health"]
            print(f"{how + ': ' + name:34} {len(st):5d} {sum(1 for x in st if x in (200, 201)):5d} "
                  f"{sum(1 for x in st if 400 <= x < 500):5d} {sum(1 for x in st if x == 0 or x >= 500):5d} "
                  f"{r['p50'] * 1000:8.1f} {r['p99'] * 1000:8.1f} {r['p50'] / b['p50']:6.2f} "
                  f"{r['p99'] / b['p99']:6.2f} {len(st) / r['wall']:7.0f}")
        print()
        for name, c in checks.items():
            print(f"{name}: bids lost {c['lost']}, double awards {c['double_awards']}, {c['deals']} award(s) at the "
                  f"close, bid sequence without gaps: {not c['gaps']}, ledger balanced: {bool(c['balanced'])}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop(args.database_url, schema)


if __name__ == "__main__":
    main()
