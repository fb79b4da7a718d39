"""Translations: every message of code, templates and scripts has its Chinese in the catalogues (English is the
msgid itself), the same word is translated one way everywhere, and a county user reads errors — the API's, a
region package's validation, a run's — in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import PASSWORD
from gep.app import Settings, build_platform, create_app
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.errors import N_, Conflict, Problem, RegionError, Word
from gep.kit.i18n import fields, language_from_header
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_is_translated_once_and_keeps_its_fields() -> None:
    from gep.i18n_tools import check_all

    assert check_all() == []


def test_a_translation_is_filled_with_its_fields_and_words() -> None:
    zh = build_platform().catalogues.gettext("zh")
    error = Conflict(N_("run {id} is {status}: only a queued or running run can be cancelled"), id=7,
                     status=Word("finished"))
    assert str(error) == "run 7 is finished: only a queued or running run can be cancelled"
    text = error.localized(zh)
    assert "7" in text and "已完成" in text and "finished" not in text
    assert fields("a {x} and {y:.1f} but not {{z}}") == {"x", "y"}


@pytest.mark.parametrize(("header", "lang"), [("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9", "en"),
                                              ("fr-FR, en;q=0.5", "en"), ("de", None), ("", None),
                                              ("en;q=0.2, zh-TW;q=0.8", "zh")])
def test_accept_language_picks_the_best_supported_language(header: str, lang: str | None) -> None:
    assert language_from_header(header) == lang


def test_region_package_problems_read_in_chinese() -> None:
    zh = build_platform().catalogues.gettext("zh")
    problem = Problem(N_("{file}, row {row}"), N_("column code: {value} is not an integer"), file="classes.csv",
                      row=3, value="'x'")
    assert str(problem) == "classes.csv, row 3: column code: 'x' is not an integer"
    where, message = problem.place(zh), problem.text(zh)
    assert "classes.csv" in where and "3" in where and CJK.search(where)
    assert "'x'" in message and CJK.search(message)
    error = RegionError("mine", [problem])
    assert CJK.search(error.localized(zh)) and "mine" in error.localized(zh)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gep.db'}"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as s:
        auth.create_user(s, "analyst", PASSWORD, "analyst", SYSTEM)
    engine.dispose()
    data = tmp_path_factory.mktemp("data")
    (data / "imports" / "broken").mkdir(parents=True)
    (data / "imports" / "broken" / "region.toml").write_text('[region]\nid = "x"\ncrs = "EPSG:4326"\n')
    with TestClient(create_app(Settings(database_url=url, data_dir=Path(data), job_mode="queue"))) as c:
        yield c


def _bearer(client: TestClient) -> dict[str, str]:
    token = client.post("/api/auth/tokens", json={"username": "analyst", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_api_errors_are_chinese_unless_asked_otherwise(client: TestClient) -> None:
    h = _bearer(client)
    zh = client.get("/api/runs/424242", headers=h).json()
    assert CJK.search(zh["detail"]) and "424242" in zh["detail"]
    en = client.get("/api/runs/424242", headers={**h, "Accept-Language": "en-GB,en;q=0.9"}).json()
    assert en["detail"] == "accounting run 424242 does not exist"
    bad = client.get("/api/runs?limit=0", headers=h).json()
    assert bad["problems"][0]["where"] == "query.limit" and CJK.search(bad["problems"][0]["message"])


def test_a_broken_region_package_is_explained_in_chinese(client: TestClient) -> None:
    r = client.post("/api/regions", json={"path": "broken"}, headers=_bearer(client))
    body = r.json()
    assert r.status_code == 422 and len(body["problems"]) >= 3
    assert all(CJK.search(p["message"]) for p in body["problems"]), body["problems"]
    assert any("region.toml" in p["where"] for p in body["problems"])
    english = client.post("/api/regions", json={"path": "broken"}, headers={**_bearer(client),
                                                                            "Accept-Language": "en"}).json()
    assert any("equal-area" in p["message"] for p in english["problems"]), english["problems"]


def test_pages_speak_chinese_first_whatever_the_browser_asks(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<title>生态产品价值实现平台</title>" in page.text and 'lang="zh-CN"' in page.text
    english = client.get("/login?lang=en")
    assert "<title>Ecological product value realization platform</title>" in english.text
    assert english.cookies.get("lang") == "en"
    assert "Log in" in client.get("/login").text  # the choice is remembered
    client.cookies.clear()
