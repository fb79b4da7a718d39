"""`gep account --out` never destroys what the user owns (issue 17): a folder holding the user's files or a region
package is refused before anything is computed, and left as it was; earlier accounts are replaced only with
--overwrite; a target that cannot be written to is refused before the computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gep.accounting.accounts import check_target, is_accounts_folder
from gep.cli import app
from gep.errors import InputError
from gep.testing import TinyRegion

CLASSES = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])


@pytest.fixture
def region(tmp_path: Path) -> Path:
    return TinyRegion(CLASSES, {"precipitation": np.full((2, 4), 2000.0)}).write(tmp_path / "region")


def run(region: Path, out: Path, *more: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["account", str(region), "--year", "2019", "--out", str(out), *more])
    return r.exit_code, " ".join(r.output.split())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_folder_of_the_users_files_is_refused_and_kept(region: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"three years of work")
    code, output = run(region, mine)
    assert code == 2 and "not gep's accounts" in output, output
    assert snapshot(mine) == {"thesis.docx": b"three years of work"}
    assert "writing" not in output  # refused before computing


def test_the_region_package_itself_is_refused_and_kept(region: Path) -> None:
    before = snapshot(region)
    code, output = run(region, region)
    assert code == 2 and "region package" in output, output
    assert snapshot(region) == before


def test_earlier_accounts_are_replaced_only_on_request(region: Path, tmp_path: Path) -> None:
    out = tmp_path / "accounts"
    assert run(region, out)[0] == 0 and is_accounts_folder(out)
    first = json.loads((out / "metadata.json").read_text())
    code, output = run(region, out)
    assert code == 2 and "--overwrite" in output, output
    assert json.loads((out / "metadata.json").read_text()) == first
    code, output = run(region, out, "--overwrite", "--no-density")
    assert code == 0, output
    assert not list(out.glob("value_density_*.tif"))  # replaced whole: the earlier raster is gone
    (out / "notes.txt").write_text("mine")  # a file of the user's among the accounts: never replaced again
    code, output = run(region, out, "--overwrite")
    assert code == 2 and (out / "notes.txt").read_text() == "mine"


def test_an_empty_or_new_folder_is_fine_and_an_unwritable_one_is_refused(tmp_path: Path) -> None:
    check_target(tmp_path / "new" / "deeper")
    (tmp_path / "empty").mkdir()
    check_target(tmp_path / "empty")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(InputError, match="is a file"):
        check_target(tmp_path / "a-file")
    with pytest.raises(InputError, match="cannot write"):
        check_target(tmp_path / "a-file" / "accounts")  # its parent is a file: nothing can be written there
