"""The whole API fuzzed from its own OpenAPI document with schemathesis: as an administrator and with no
credentials, every generated request must answer without a server error, with a status the document lists
and a body that fits the documented schema (errors included)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import PASSWORD
from gep.app import Settings, create_app
from gep.auth import service as auth
from gep.db import make_engine, session_factory, unit_of_work
from gep.kit.principal import SYSTEM
from gep.migrations import upgrade
from gep.testing import TinyRegion

pytestmark = pytest.mark.slow
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module")
def app(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    upgrade(empty_db)
    engine = make_engine(empty_db)
    with unit_of_work(session_factory(engine)) as s:
        org = auth.create_organisation(s, "模糊测试", "government", SYSTEM)
        auth.create_user(s, "fuzzer", PASSWORD, "admin", SYSTEM, organisation_id=org.id)
    engine.dispose()
    data = tmp_path_factory.mktemp("data")
    classes = np.array([[11, 12, 41, 42], [43, 61, 31, 44]])
    TinyRegion(classes, {"precipitation": np.full((2, 4), 2000.0)}).write(data / "imports" / "tiny")
    application = create_app(Settings(database_url=empty_db, data_dir=Path(data), job_mode="queue"))
    with TestClient(application) as client:
        token = client.post("/api/auth/tokens", json={"username": "fuzzer", "password": PASSWORD}).json()["token"]
        assert client.post("/api/regions", json={"path": "tiny"},
                           headers={"Authorization": f"Bearer {token}"}).status_code == 201
        HEADERS["Authorization"] = f"Bearer {token}"
        yield application


def _fuzz(app: object, headers: dict[str, str], examples: int) -> list[str]:
    """Every operation of the document, `examples` generated requests each; the failures, described."""
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        if not _keep_the_fuzzers_token(operation.path, operation.method.upper()):
            continue

        @given(operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            call()
        except Exception as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    return failures


def _keep_the_fuzzers_token(path: str, method: str) -> bool:
    # revoking its own token, logging out or deactivating itself would only turn the rest of the run into 401s
    return not (path in ("/api/auth/logout", "/api/auth/tokens/{token_id}", "/api/auth/password")
                or (path == "/api/users/{user_id}" and method == "PATCH"))


def test_the_api_as_an_administrator(app: object) -> None:
    failures = _fuzz(app, HEADERS, examples=40)
    assert not failures, "\n\n".join(failures)


def test_the_api_without_credentials(app: object) -> None:
    failures = _fuzz(app, {}, examples=15)
    assert not failures, "\n\n".join(failures)
