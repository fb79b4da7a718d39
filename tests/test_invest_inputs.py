"""The InVEST mode's tables and vectors, read without pandas or geopandas, as InVEST reads them; and the
import cost of the `gep` command, which a user pays on every run."""

from __future__ import annotations

import re
import subprocess
import sys

import geopandas as gpd
import pytest
from rasterio.crs import CRS
from shapely.geometry import box

from gep.invest import InvestCompatError, run_datastack
from gep.invest._table import read_table
from gep.invest._vector import read_vector
from gep.invest._vector_csv import vector_csv


def test_a_table_with_semicolons_a_bom_and_blank_rows_reads_as_invest_reads_it(tmp_path):
    path = tmp_path / "bio.csv"
    path.write_text("\ufeff LUCODE ;Description; KC ;root_depth\n1;forest;0.9;7000\n\n;;;\n12;crop; 0.65 ;2000.5\n",
                    encoding="utf-8")
    table = read_table(path, "biophysical_table_path", "lucode", ("kc", "root_depth"))
    assert table.index == (1, 12)
    assert table["kc"] == {1: 0.9, 12: 0.65}
    assert table["root_depth"] == {1: 7000.0, 12: 2000.5}


def test_integer_keys_written_as_floats_are_accepted_and_others_are_named(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("lucode,usle_c\n1.0,0.1\n2,0.2\n")
    assert read_table(good, "t", "lucode", ("usle_c",)).index == (1, 2)
    for body, message in (("lucode,usle_c\n1.5,0.1\n", "column lucode must hold integers"),
                          ("lucode,usle_c\nforest,0.1\n", "column lucode must hold integers"),
                          ("lucode,usle_c\n1,0.1\n1,0.2\n", "duplicate lucode values [1]"),
                          ("lucode,usle_c\n1,0.1\n2,\n3,n/a\n", "column usle_c is not a number for lucode [2, 3]"),
                          ("lucode,kc\n1,0.1\n", "missing column(s) usle_c")):
        bad = tmp_path / "bad.csv"
        bad.write_text(body)
        with pytest.raises(InvestCompatError, match=r"t \(.*bad.csv\): " + re.escape(message)):
            read_table(bad, "t", "lucode", ("usle_c",))


def test_a_missing_table_names_its_arg(tmp_path):
    with pytest.raises(InvestCompatError, match="demand_table_path: cannot read table"):
        read_table(tmp_path / "none.csv", "demand_table_path", "lucode", ("demand",))


def test_a_vector_keeps_file_order_fields_and_crs_and_checks_them(tmp_path):
    path = tmp_path / "ws.gpkg"
    gpd.GeoDataFrame({"WS_ID": [7, 3], "name": ["upper", None]},
                     geometry=[box(0, 0, 10, 10), box(10, 0, 30, 5)], crs="EPSG:32650").to_file(path)
    vector = read_vector(str(path), "watersheds_path", CRS.from_epsg(32650), "dem_path")
    assert vector.fields == ("WS_ID", "name")
    assert vector.columns == {"WS_ID": [7, 3], "name": ["upper", None]}
    assert [g.area for g in vector.geometries] == [100.0, 100.0]
    assert vector.total_bounds == (0.0, 0.0, 30.0, 10.0)
    assert vector.field("ws_id") == "WS_ID"
    renamed = vector.renamed("WS_ID", "ws_id")
    assert renamed.fields == ("ws_id", "name") and renamed.columns["ws_id"] == [7, 3]
    # the output table starts with the vector's own fields, as InVEST's convert_vector_to_csv writes them
    assert vector_csv(renamed, [{"x": 1.5}, {"x": None}]).splitlines() == [
        "ws_id,name,x", '"7",upper,1.50000000000', '"3",,']
    with pytest.raises(InvestCompatError, match="watersheds_path is not in the CRS of dem_path"):
        read_vector(str(path), "watersheds_path", CRS.from_epsg(32651), "dem_path")


def test_an_unreadable_vector_names_its_arg(tmp_path):
    path = tmp_path / "ws.shp"
    path.write_text("not a shapefile")
    with pytest.raises(InvestCompatError, match="watersheds_path: cannot read vector"):
        read_vector(str(path), "watersheds_path")


def test_the_gep_command_and_the_invest_mode_start_without_the_heavy_libraries():
    """`gep --help` and checking a datastack import no numpy, pandas, geopandas, rasterio or numba; running
    AWY or SDR imports no pandas or geopandas (fiona and the csv module read their inputs)."""
    probe = ("import sys, gep.cli, gep.invest; heavy = {'numpy', 'pandas', 'geopandas', 'rasterio', 'numba', "
             "'dask'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    probe = ("import sys, gep.invest.annual_water_yield, gep.invest.sdr, gep.invest.carbon; "
             "print(sorted({'pandas', 'geopandas', 'dask', 'xarray'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_output_compression_is_chosen_by_the_environment_and_a_wrong_choice_is_named(monkeypatch, tmp_path):
    from gep.invest._raster import COMPRESSION, output_compression

    monkeypatch.delenv("GEP_INVEST_COMPRESSION", raising=False)
    assert output_compression() == {"compress": "none"}
    monkeypatch.setenv("GEP_INVEST_COMPRESSION", "LZW")
    assert output_compression() == COMPRESSION["lzw"]
    monkeypatch.setenv("GEP_INVEST_COMPRESSION", "deflate")
    with pytest.raises(InvestCompatError, match=r"GEP_INVEST_COMPRESSION='deflate': expected one of none, zstd, lzw"):
        run_datastack(tmp_path / "never-read.json", tmp_path / "out")
