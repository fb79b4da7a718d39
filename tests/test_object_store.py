"""Region rasters read from an object store (issue 16): a package whose layers are `s3://` URLs gives the same
accounts as the same package with its rasters on disk, in this process and on a cluster's workers.

The object store is moto's S3 server on a local port; GDAL reads it through /vsis3/, configured by the AWS_*
variables, as it would read AWS S3, MinIO or Ceph.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from gep.accounting.location import is_url, locate, shown
from gep.accounting.region import load_region
from gep.accounting.run import account
from gep.errors import RegionError
from test_distributed import region

BUCKET = "gep-regions"

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[object]:
    """An S3 server on a local port, with GDAL and boto3 pointed at it; yields a boto3 client.

    The server runs in its own process: in this one, a GDAL read holding the GIL while it waits for the server's
    answer would wait for ever."""
    boto3 = pytest.importorskip("boto3")
    pytest.importorskip("moto.server")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with pytest.MonkeyPatch.context() as env:
            for key, value in {"AWS_ACCESS_KEY_ID": "gep", "AWS_SECRET_ACCESS_KEY": "gep-secret",
                               "AWS_REGION": "us-east-1", "AWS_S3_ENDPOINT": f"127.0.0.1:{port}", "AWS_HTTPS": "NO",
                               "AWS_VIRTUAL_HOSTING": "FALSE", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}.items():
                env.setenv(key, value)
            client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1")
            deadline = time.monotonic() + 60
            while True:
                try:
                    client.create_bucket(Bucket=BUCKET)
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.2)
            yield client
    finally:
        server.terminate()
        server.wait(timeout=30)


def _published(s3: object, root: Path, prefix: str) -> Path:
    """A copy of the package whose rasters are objects under s3://BUCKET/prefix/ (region.toml names the URLs);
    the copy holds no raster at all, so a read that missed the object store would fail."""
    copy = root.parent / f"{prefix}-package"
    copy.mkdir()
    for item in root.iterdir():
        if item.name == "rasters":
            for tif in item.iterdir():
                s3.upload_file(str(tif), BUCKET, f"{prefix}/{tif.name}")  # type: ignore[attr-defined]
        else:
            (copy / item.name).write_bytes(item.read_bytes())
    toml = (root / "region.toml").read_text(encoding="utf-8")
    (copy / "region.toml").write_text(toml.replace('file = "rasters/', f'file = "s3://{BUCKET}/{prefix}/'),
                                      encoding="utf-8")
    return copy


def test_layer_files_name_package_paths_or_urls(tmp_path: Path) -> None:
    assert is_url("s3://bucket/dem.tif") and is_url("https://example.org/dem.tif") and is_url("/vsis3/b/dem.tif")
    assert not is_url("rasters/dem.tif") and not is_url("C:/data/dem.tif")
    assert locate(tmp_path, "rasters/dem.tif") == tmp_path / "rasters" / "dem.tif"
    assert locate(tmp_path, "gs://b/dem.tif") == "gs://b/dem.tif"
    assert shown(tmp_path / "rasters" / "dem.tif", tmp_path) == str(Path("rasters") / "dem.tif")
    assert shown("gs://b/dem.tif", tmp_path) == "gs://b/dem.tif"


def test_rasters_in_an_object_store_give_the_same_accounts(tmp_path: Path, s3: object) -> None:
    root = region(tmp_path, 16)
    remote = _published(s3, root, "same")
    assert not (remote / "rasters").exists()
    package = load_region(remote)
    assert str(package.layers["dem"].path(package.root, 2019)) == f"s3://{BUCKET}/same/dem_2019.tif"
    local, far = account(load_region(root), 2019), account(package, 2019)
    assert local.table[local.table.indicator == "soil_retention"]["quantity"].sum() > 0
    pd.testing.assert_frame_equal(local.table, far.table, check_exact=True)


def test_a_missing_object_or_file_is_named_where_it_was_looked_for(tmp_path: Path, s3: object) -> None:
    root = region(tmp_path, 16)
    remote = _published(s3, root, "missing")
    s3.delete_object(Bucket=BUCKET, Key="missing/precipitation_2019.tif")  # type: ignore[attr-defined]
    (root / "rasters" / "precipitation_2019.tif").unlink()
    for package, where, why in ((remote, f"s3://{BUCKET}/missing/precipitation_2019.tif", "does not exist"),
                                (root, str(Path("rasters") / "precipitation_2019.tif"), "not found|找不到|不存在")):
        with pytest.raises(RegionError) as caught:
            load_region(package)
        text = str(caught.value)
        assert where in text
        assert re.search(rf"precipitation.*({why})", text), text


def test_an_object_store_without_credentials_says_so(tmp_path: Path, s3: object,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """GDAL's own reason reaches the user (here: no credentials), not a bare "not found"."""
    remote = _published(s3, region(tmp_path, 16), "no-keys")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(RegionError) as caught:
        load_region(remote)
    assert "AWS_SECRET_ACCESS_KEY" in str(caught.value)


@pytest.mark.slow
def test_a_cluster_reads_the_object_store_and_gives_the_same_accounts(
        tmp_path: Path, s3: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two worker processes read the rasters from the object store themselves (they inherit the AWS_* settings)
    and route the DEM tile by tile into a shared folder: the accounts equal the local run's to the last digit."""
    from distributed import LocalCluster

    root = region(tmp_path, 8)  # 12 chunks, shared by the two workers
    remote = _published(s3, root, "cluster")
    monkeypatch.setenv("GEP_TERRAIN_TILE", "8")
    monkeypatch.setenv("GEP_TERRAIN_DIR", str(tmp_path / "routed"))
    local = account(load_region(root), 2019)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        far = account(load_region(remote), 2019, scheduler=cluster.scheduler_address)
        ran = {prefix for prefix in cluster.scheduler.task_prefixes}
    assert {"ingest_block", "fill_pass1"} <= ran  # the DEM was cut into tiles on the workers
    pd.testing.assert_frame_equal(local.table, far.table, check_exact=True)
