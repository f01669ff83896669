"""The contract every installed connector keeps, proven against the sandbox.

Parametrized over the connector registry: a connector whose class names a ``sandbox_provider``
is covered by being installed. Faults are injected by wrapping the HTTP transport (the one
door every connector's requests go through), so the suite needs no knowledge of a provider.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from benchmarks.reliability import Wrapped
from cscor_tools.config import Config
from cscor_tools.connectors import Connector, Secret, available_connectors, load_connector
from cscor_tools.connectors.settings import connector_settings
from cscor_tools.errors import MissingCredentialError
from cscor_tools.records import StreamState, Tombstone
from cscor_tools.sandbox import Sandbox
from cscor_tools.schema import ENTITIES
from cscor_tools.schema_render import json_schema
from cscor_tools.store import Store, open_store
from cscor_tools.workspace import sync_connector


def _sandboxed() -> list[str]:
    names = []
    for name in available_connectors():
        try:
            cls = load_connector(name)
        except Exception:  # a broken plugin has its own test; it is no contract candidate
            continue
        if cls.sandbox_provider:
            names.append(name)
    return names


CONNECTORS = _sandboxed()
#: query parameters that carry a page token in the schemes the kit knows
TOKEN_PARAMS = {"starting_after", "ending_before", "after", "before", "cursor", "page",
                "offset", "after_id"}
FAST = 1000.0  # requests per second: the sandbox runs unthrottled here


class Crash(BaseException):
    """What a kill looks like from inside: nothing below catches a BaseException."""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # large enough that every list spans several pages (the loop test needs page two)
    with Sandbox(seed=5, scale=0.5) as sb:
        yield sb


@pytest.fixture(params=CONNECTORS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def cls_of(name: str) -> type[Connector]:
    return load_connector(name)


def env_for(name: str, sandbox: Sandbox, key: str | None = None) -> dict[str, str]:
    cls = cls_of(name)
    assert cls.sandbox_provider and cls.credential_env
    return {cls.credential_env: key or sandbox.credentials(cls.sandbox_provider)}


def run(name: str, sandbox: Sandbox, store: Store, *, transport: httpx.BaseTransport | None = None,
        key: str | None = None, full: bool = False) -> Any:
    provider = cls_of(name).sandbox_provider
    assert provider
    return sync_connector(name, store=store, base_url=sandbox.base_url(provider),
                          env=env_for(name, sandbox, key), rate_limit=FAST,
                          transport=transport, full=full, config=Config())


def snapshot(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every entity by id, without when we wrote it."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entity in ENTITIES:
        rows = out.setdefault(entity, {})
        for batch in store.iter_rows(entity):
            for row in batch:
                row = {k: v for k, v in row.items() if k not in ("synced_at", "seen_at")}
                rows[row["id"]] = row
    return out


@pytest.fixture
def reference(name: str, sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """A clean full sync: its result and its rows, for faulted runs to equal."""
    store = open_store(tmp_path / "reference.db")
    try:
        result = run(name, sandbox, store)
        assert result.status == "succeeded", result
        yield result, snapshot(store)
    finally:
        store.close()


def fresh(tmp_path: Path, label: str) -> Store:
    return open_store(tmp_path / f"{label}.db")


# -- declarations -----------------------------------------------------------------------------


def test_the_sandbox_covers_the_connectors_the_toolkit_promises() -> None:
    assert {"stripe", "example_resend"} <= set(CONNECTORS)


def test_streams_are_declared_with_entities_of_the_schema(name: str) -> None:
    cls = cls_of(name)
    assert cls.title and cls.credential_env and cls.default_base_url
    names = [s.name for s in cls.stream_classes]
    assert names and len(names) == len(set(names))
    for stream in cls.stream_classes:
        assert stream.entities, stream.name
        assert set(stream.entities) <= set(ENTITIES), stream.name
        assert isinstance(stream.primary_key, str) and stream.primary_key


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def test_normalized_rows_validate_against_the_schema(name: str, sandbox: Sandbox) -> None:
    cls = cls_of(name)
    provider = cls.sandbox_provider
    assert provider
    settings = connector_settings(cls, Config(), env=env_for(name, sandbox),
                                  base_url=sandbox.base_url(provider), rate_limit=FAST)
    checked = 0
    with cls(settings) as connector:
        planned: dict[str, Any] = {}
        for stream in connector.streams():
            if stream.plans_after_others:
                slices = stream.plan(StreamState(), full=True, planned=planned)
            else:
                slices = stream.plan(StreamState(), full=True)
            planned[stream.name] = slices
            for sl in slices[:2]:
                for page, _ in zip(stream.read(sl, None), range(2), strict=False):
                    changes = stream.changes(page)
                    for entity, rows in changes.upserts.items():
                        assert entity in stream.entities, (stream.name, entity)
                        schema = {**json_schema(ENTITIES[entity]), "required": []}
                        for row in rows:
                            assert {"id", "source", "source_id"} <= set(row), row
                            jsonschema.validate(_jsonable(row), schema)
                            checked += 1
                    for entity, stones in changes.tombstones.items():
                        assert entity in stream.entities
                        assert all(isinstance(s, Tombstone) for s in stones)
    assert checked > 0


# -- failures named, not hidden -------------------------------------------------------------


def test_a_missing_credential_names_its_env_var(name: str) -> None:
    cls = cls_of(name)
    settings = connector_settings(cls, Config(), env={})
    with pytest.raises(MissingCredentialError) as err:
        cls(settings)
    assert cls.credential_env and cls.credential_env in str(err.value)


def test_a_refused_credential_names_the_provider_and_env_var(name: str, sandbox: Sandbox,
                                              tmp_path: Path) -> None:
    cls = cls_of(name)
    wrong = "wrong-credential-4f1d9"
    store = fresh(tmp_path, "auth")
    try:
        result = run(name, sandbox, store, key=wrong)
    finally:
        store.close()
    assert result.status == "failed"
    assert int(result.exit_code) == 4
    errors = " ".join(s.error or "" for s in result.streams)
    assert cls.title in errors and str(cls.credential_env) in errors
    assert wrong not in errors


class RepeatsFirstPage(httpx.BaseTransport):
    """A server that ignores page tokens: a request carrying one gets the first page of its
    path again."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.first: dict[str, bytes] = {}
        self.count = self.repeated = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        path, paged = request.url.path, bool(TOKEN_PARAMS & set(request.url.params))
        if paged and path in self.first:
            self.repeated += 1
            return httpx.Response(200, content=self.first[path],
                                  headers={"content-type": "application/json"})
        response = self.inner.handle_request(request)
        content = response.read()
        if not paged and response.status_code == 200:
            self.first.setdefault(path, content)
        return httpx.Response(response.status_code, content=content,
                              headers={k: v for k, v in response.headers.items()
                                       if k.lower() not in ("content-length",
                                                            "content-encoding")})

    def close(self) -> None:
        self.inner.close()


def test_a_provider_that_repeats_a_page_fails_cleanly(name: str, sandbox: Sandbox,
                                                      tmp_path: Path) -> None:
    transport = RepeatsFirstPage()
    store = fresh(tmp_path, "loop")
    try:
        result = run(name, sandbox, store, transport=transport)
    finally:
        store.close()
    if not transport.repeated:
        pytest.skip("the sandbox's data fit in single pages: no cursor to repeat")
    assert result.status in ("failed", "partial"), result
    errors = [s.error or "" for s in result.streams if s.status == "failed"]
    assert errors and all("unexpected response" in e for e in errors), errors
    assert all(s.error_code == 5 for s in result.streams if s.status == "failed")
    assert transport.count < 10_000  # it stopped, it did not loop


def test_no_4xx_is_skipped_silently(name: str, sandbox: Sandbox, tmp_path: Path,
                                    reference: tuple[Any, Any]) -> None:
    refused = max(1, int(reference[0].requests["requests"]) // 2)

    def refuse_one(request: httpx.Request, n: int) -> httpx.Response | None:
        if n == refused:
            return httpx.Response(400, json={"error": {"message": "refused by the test"}})
        return None

    store = fresh(tmp_path, "4xx")
    try:
        result = run(name, sandbox, store, transport=Wrapped(refuse_one))
    finally:
        store.close()
    assert result.status in ("failed", "partial"), result
    failed = [s for s in result.streams if s.status == "failed"]
    assert failed and all("HTTP 400" in (s.error or "") for s in failed)
    assert all(s.error_code == 6 for s in failed)


# -- exact data whatever happens -------------------------------------------------------------


def test_a_5xx_storm_is_retried_to_the_exact_data(name: str, sandbox: Sandbox, tmp_path: Path,
                                                  reference: tuple[Any, Any]) -> None:
    # Every request fails before it succeeds: once (503), and every third one twice (then a
    # 502). Counted per request rather than per call, so how the connector's threads
    # interleave cannot pile one request's attempts onto the failures.
    attempts: dict[str, int] = {}
    lock = threading.Lock()

    def storm(request: httpx.Request, n: int) -> httpx.Response | None:
        key = f"{request.method} {request.url}"
        with lock:
            first = key not in attempts
            attempts[key] = attempts.get(key, 0) + 1
            tried, distinct = attempts[key], len(attempts)
        if first or (tried == 2 and distinct % 3 == 0):
            status = 503 if tried == 1 else 502
            return httpx.Response(status, headers={"retry-after": "0"}, json={"error": "busy"})
        return None

    store = fresh(tmp_path, "storm")
    try:
        result = run(name, sandbox, store, transport=Wrapped(storm))
        assert result.status == "succeeded", [s.error for s in result.streams if s.error]
        assert result.requests["server_errors"] >= len(attempts) > 0
        assert result.requests["failed"] == 0
        assert snapshot(store) == reference[1]
    finally:
        store.close()


@pytest.mark.parametrize("fraction", [0.3, 0.7])
def test_a_sync_killed_after_some_pages_resumes_to_the_exact_data(
    name: str, sandbox: Sandbox, tmp_path: Path, reference: tuple[Any, Any], fraction: float,
) -> None:
    requests = int(reference[0].requests["requests"])
    kill_at = max(2, int(requests * fraction))

    def kill(request: httpx.Request, n: int) -> httpx.Response | None:
        if n == kill_at:
            raise Crash(f"killed at request {n}")
        return None

    store = fresh(tmp_path, "killed")
    try:
        try:  # raised where the engine plans; a reading thread's crash fails its stream
            killed = run(name, sandbox, store, transport=Wrapped(kill))
        except Crash:
            pass
        else:
            assert killed.status != "succeeded"
        assert store.runs(1)[0].status in ("failed", "partial", "interrupted")
        resumed = run(name, sandbox, store)
        assert resumed.status == "succeeded", resumed
        assert snapshot(store) == reference[1]
    finally:
        store.close()


# -- secrets ---------------------------------------------------------------------------------


def test_the_credential_never_appears_in_reprs_logs_or_state(
    name: str, sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    cls = cls_of(name)
    provider = cls.sandbox_provider
    assert provider
    key = sandbox.credentials(provider)
    store = fresh(tmp_path, "secret")
    try:
        with caplog.at_level(logging.DEBUG):
            result = run(name, sandbox, store)
        assert result.status == "succeeded", result
        settings = connector_settings(cls, Config(), env=env_for(name, sandbox),
                                      base_url=sandbox.base_url(provider))
        connector = cls(settings)
        shown = [repr(settings), str(settings), repr(connector), repr(connector.http),
                 repr(settings.credential), repr(Secret(key)), repr(connector.run_details())]
        connector.close()
        shown += [r.getMessage() + repr(r.__dict__) for r in caplog.records]
        shown += [repr(store.load_state(name, s.name)) for s in cls.stream_classes]
        shown += [repr(r) for r in store.runs(10)]
        shown += [repr(result)]
        hits = [s for s in shown if key in s]
        assert not hits, hits[:3]
        assert len(caplog.records) > 0
    finally:
        store.close()
