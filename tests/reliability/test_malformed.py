"""Malformed provider responses, over every connector: a body that is not JSON, records
without a usable id, wrong types, and a page of 100 MB. Each fails its stream with an error
naming the provider, the stream and the path (and the field where there is one), and none of
the bad page's rows is stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from benchmarks.reliability import Locations, Wrapped, snapshot, sync_into
from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.connectors import load_connector
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from tests.reliability.conftest import show

Record = dict[str, Any]


def records_in(body: Any) -> list[Record] | None:
    """The first list of records (objects with an id) in a body, wherever it is."""
    if isinstance(body, list):
        return body if body and all(isinstance(r, dict) and "id" in r for r in body) else None
    if isinstance(body, dict):
        for value in body.values():
            found = records_in(value)
            if found:
                return found
    return None


class Corrupt:
    """A transport hook that spoils the first page holding a few records, and every later
    answer on the same path (a retry gets the same bad page, the next page a bad one too)."""

    def __init__(self, spoil: Callable[[dict[str, Any], list[Record]], bytes | None]) -> None:
        self.spoil = spoil
        self.ids: list[str] = []
        self.path = ""
        self.lock = threading.Lock()
        self.inner = httpx.HTTPTransport()

    def __call__(self, request: httpx.Request, n: int) -> httpx.Response | None:
        response = self.inner.handle_request(request)
        content = response.read()
        with self.lock:
            if not self.path and response.status_code == 200:
                body = json.loads(content) if content.startswith((b"{", b"[")) else None
                records = records_in(body)
                if records is not None and len(records) >= 3:
                    self.path = request.url.path
            if self.path == request.url.path and response.status_code == 200:
                body = json.loads(content)
                records = records_in(body) or []
                self.ids += [str(r["id"]) for r in records]
                spoiled = self.spoil(body, records) if len(records) >= 2 else None
                content = spoiled if spoiled is not None else json.dumps(body).encode()
        return httpx.Response(response.status_code, content=content,
                              headers={"content-type": "application/json"})


def _no_id(body: dict[str, Any], records: list[Record]) -> None:
    del records[1]["id"]


def _null_id(body: dict[str, Any], records: list[Record]) -> None:
    records[1]["id"] = None


def _object_id(body: dict[str, Any], records: list[Record]) -> None:
    records[1]["id"] = {"nested": ["not", "an", "id"]}


def _records_not_a_list(body: dict[str, Any], records: list[Record]) -> bytes:
    return json.dumps({k: "surprise" if isinstance(v, list) else v
                       for k, v in body.items()}).encode()


def _html(body: dict[str, Any], records: list[Record]) -> bytes:
    return b"<html><body>Down for maintenance</body></html>"


def _huge(body: dict[str, Any], records: list[Record]) -> bytes:
    records[1]["padding"] = "x" * (100 * 1024 * 1024)
    return json.dumps(body).encode()


CASES = {"no id": _no_id, "null id": _null_id, "object id": _object_id,
         "records not a list": _records_not_a_list, "not JSON": _html, "100 MB page": _huge}


def corrupt_sync(name: str, sandbox: Sandbox, locations: Locations, case: str,
                 hook: Corrupt) -> tuple[Any, Any, list[Any]]:
    """One sync of ``name`` whose pages ``hook`` spoils: (workspace, result, failed
    streams); skipped when no page could be spoiled."""
    config = Config(connectors={name: ConnectorConfig(max_attempts=2)})
    location = locations.new(case.replace(" ", "_"))
    result = sync_into(name, sandbox, location, transport=Wrapped(hook), config=config)
    if not hook.path:
        pytest.skip(f"{name}: no page of the sandbox's data holds three records")
    failed = [s for s in result.streams if s.status == "failed"]
    show({"connector": name, "case": case, "path": hook.path,
          "errors": [f"{s.stream}: {s.error}" for s in failed]})
    return location, result, failed


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_page_fails_its_stream_clearly_and_stores_none_of_its_rows(
    sandbox: Sandbox, name: str, tmp_path: Any, case: str,
) -> None:
    hook = Corrupt(CASES[case])
    location, result, failed = corrupt_sync(name, sandbox, Locations("sqlite", tmp_path),
                                            case, hook)
    assert result.status in ("failed", "partial") and failed
    title = load_connector(name).title
    for s in failed:
        assert s.error_code == ExitCode.PROVIDER_UNAVAILABLE, s.error  # not a bug's exit 1
        assert title in (s.error or "") and "internal error" not in (s.error or "")
        # the message itself names the stream (not only the result row it is kept in)
        assert f"stream {s.stream}" in (s.error or ""), s.error
    if case == "not JSON":
        assert any("malformed response body" in (s.error or "") for s in failed)
    path = hook.path.removeprefix("/api/")  # Slack's errors name the method
    assert any(path in (s.error or "") for s in failed), [s.error for s in failed]
    if "id" in case:
        assert any("'id'" in (s.error or "") for s in failed)
    stored = {row["source_id"] for rows in snapshot(location).values() for row in rows.values()}
    assert not stored & set(hook.ids), "rows of the malformed pages were stored"
