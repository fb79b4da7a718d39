"""The accounting's pass over the chunks on a Dask distributed cluster (issue 16): `gep account --scheduler` and
the platform's GEP_DASK_SCHEDULER give the same accounts as a local run, to the last digit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.cli import app as cli
from gep.errors import InputError
from gep.testing import TinyRegion

STATS = [{"zone_code": "100101", "year": 2019, "item": "agriculture.output_value", "value": 500, "unit": "万元",
          "source": "yearbook"}]


def region(tmp_path: Path, chunk: int = 2) -> Path:
    """A small region (24 × 32 pixels) in chunks of chunk² pixels (192 by default, so the cluster's two workers
    share them), soil retention included: its DEM has a depression filled flat across tile edges."""
    rng = np.random.default_rng(7)
    classes = rng.choice([11, 12, 21, 31, 41, 42, 43, 44, 61], size=(24, 32))
    y, x = np.mgrid[0:24, 0:32]
    dem = np.round(200 + 6 * x - 4 * np.abs(y - 12) + rng.normal(0, 5, classes.shape))
    dem[8:13, 10:16] = 150.0  # a depression filled flat across tile edges
    layers = {"precipitation": rng.uniform(1500, 2200, classes.shape),
              "evapotranspiration": rng.uniform(500, 900, classes.shape), "dem": dem,
              "vegetation_cover": rng.uniform(0.2, 0.95, classes.shape),
              "rainfall_erosivity": np.full(classes.shape, 5000.0), "soil_erodibility": np.full(classes.shape, 0.03)}
    return TinyRegion(classes, layers, statistics=STATS, chunk_size=chunk).write(tmp_path / "many-chunks")


@pytest.mark.slow
def test_a_local_cluster_of_two_processes_gives_the_same_accounts_to_the_last_digit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Soil retention's terrain is routed in memory locally, and tile by tile (8 px tiles) on the cluster."""
    from distributed import LocalCluster

    root = region(tmp_path)
    monkeypatch.setenv("GEP_TERRAIN_TILE", "8")
    monkeypatch.setenv("GEP_TERRAIN_DIR", str(tmp_path / "routed"))
    local = account(load_region(root), 2019)
    assert not (tmp_path / "routed").exists()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        far = account(load_region(root), 2019, scheduler=cluster.scheduler_address)
        ran = {prefix for prefix in cluster.scheduler.task_prefixes}
        out = tmp_path / "out"
        r = CliRunner().invoke(cli, ["account", str(root), "--out", str(out), "--no-density", "--scheduler",
                                     cluster.scheduler_address])
        assert r.exit_code == 0, r.output
        on_platform = platform_run(root, tmp_path, cluster.scheduler_address)
    assert {"sum-partial", "sum-aggregate"} <= ran  # the pass (chunk sums fused with their reduction) ran there
    # and the DEM was cut into tiles, filled, given directions and slopes there (the chunks' LS is fused into the pass)
    assert {"ingest_block", "fill_pass1", "fill_pass2", "dir_tile", "slope_tile"} <= ran
    assert [p for p in (tmp_path / "routed").iterdir() if (p / "complete").exists()]
    assert local.table[local.table.indicator == "soil_retention"]["quantity"].sum() > 0
    pd.testing.assert_frame_equal(local.table, far.table, check_exact=True)
    assert local.table["value_yuan"].sum() > 0
    written = pd.read_parquet(out / "accounts.parquet")
    assert np.array_equal(written["value_yuan"].to_numpy(), local.table["value_yuan"].to_numpy())
    assert np.array_equal(on_platform["value_yuan"].to_numpy(), local.table["value_yuan"].to_numpy())


def platform_run(package: Path, tmp_path: Path, scheduler: str) -> pd.DataFrame:
    """The platform with GEP_DASK_SCHEDULER set: a run started from the API, its stored accounts."""
    from fastapi.testclient import TestClient

    from conftest import PASSWORD, bearer
    from gep.app import Settings, create_app
    from gep.auth import service as auth
    from gep.db import make_engine, session_factory, unit_of_work
    from gep.kit.principal import SYSTEM
    from gep.migrations import upgrade
    from test_region_uploads import wait_for, zipped

    url = f"sqlite:///{tmp_path / 'gep.db'}"
    upgrade(url)
    with unit_of_work(session_factory(make_engine(url))) as s:
        county = auth.create_organisation(s, "某县自然资源局", "government", SYSTEM)
        auth.create_user(s, "analyst", PASSWORD, "analyst", SYSTEM, organisation_id=county.id)
    settings = Settings(database_url=url, data_dir=tmp_path / "data", dask_scheduler=scheduler)
    with TestClient(create_app(settings)) as client:
        h = bearer(client, "analyst")
        r = client.post("/api/regions/uploads", files=[("files", ("r.zip", zipped(package), "application/zip"))],
                        headers=h)
        assert r.status_code == 201, r.text
        run = client.post(f"/api/regions/{r.json()['id']}/runs", json={"year": 2019}, headers=h)
        assert run.status_code == 202, run.text
        done = wait_for(client, run.json()["id"], h)
        assert done["status"] == "succeeded", done
    return pd.read_parquet(next((tmp_path / "data" / "runs").glob("*/accounts/accounts.parquet")))


def test_an_unreachable_scheduler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEP_DASK_TIMEOUT", "1s")
    with pytest.raises(InputError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        account(load_region(region(tmp_path)), 2019, scheduler="tcp://127.0.0.1:9")
