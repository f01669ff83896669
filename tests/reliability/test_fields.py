"""A provider field of the wrong type, missing, or null where the provider promises a value,
over every connector: the stream fails with exit 5 and an error naming the provider, the
stream, the path, the record and the field; none of the page is stored; never another
exception. The property test mutates fields of real records of each connector's streams
(read from the sandbox) and asserts clean rows or that named error."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from benchmarks.reliability import Locations, Wrapped, snapshot, sync_into
from cscor_tools.config import Config, ConnectorConfig
from cscor_tools.connectors import Page, Stream, load_connector
from cscor_tools.connectors.shapes import ID, Shape, array, obj, one_of, text, unix_time
from cscor_tools.errors import ExitCode, UnexpectedFieldError
from cscor_tools.records import Tombstone
from cscor_tools.sandbox import Sandbox
from cscor_tools.schema import FieldType, entity
from tests.reliability.conftest import CONNECTORS, show
from tests.reliability.test_malformed import Corrupt, Record, corrupt_sync

#: the field each provider promises on every listed record (the first one a record has)
REQUIRED = ("created", "created_at", "updated", "ts")


def required_field(record: Record) -> str:
    return next(f for f in REQUIRED if f in record)


def _wrong_text(records: list[Record], field: str) -> None:
    records[1][field] = "yesterday"


def _wrong_object(records: list[Record], field: str) -> None:
    records[1][field] = {"nested": [1]}


def _missing(records: list[Record], field: str) -> None:
    del records[1][field]


def _null(records: list[Record], field: str) -> None:
    records[1][field] = None


CASES = {"wrong type (text)": _wrong_text, "wrong type (object)": _wrong_object,
         "missing": _missing, "null": _null}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_required_field_fails_its_stream_naming_record_and_field(
    sandbox: Sandbox, name: str, tmp_path: Path, case: str,
) -> None:
    spoiled: dict[str, str] = {}

    def spoil(body: dict[str, Any], records: list[Record]) -> None:
        field = required_field(records[1])
        spoiled.setdefault("field", field)
        spoiled.setdefault("record", str(records[1]["id"]))
        CASES[case](records, field)

    hook = Corrupt(spoil)
    location, _, failed = corrupt_sync(name, sandbox, Locations("sqlite", tmp_path),
                                       case.split()[0], hook)
    assert failed, "a record with a bad required field was accepted"
    title = load_connector(name).title
    path = hook.path.removeprefix("/api/")
    named = [s for s in failed if spoiled["record"] in (s.error or "")]
    assert named, [s.error for s in failed]
    for s in named:
        error = s.error or ""
        assert s.error_code == ExitCode.PROVIDER_UNAVAILABLE, error
        assert "internal error" not in error
        assert title in error and path in error and f"stream {s.stream}" in error, error
        assert f"field '{spoiled['field']}'" in error, error
    stored = {row["source_id"] for rows in snapshot(location).values() for row in rows.values()}
    assert not stored & set(hook.ids), "rows of the spoiled pages were stored"


# -- property: mutate fields of real records ---------------------------------------------------

Sample = tuple[Stream, Page]


def _capture(name: str, sandbox: Sandbox, folder: Path,
             monkeypatch: pytest.MonkeyPatch) -> list[Sample]:
    """Every (stream, page) a real sync of ``name`` normalizes, the page copied as read."""
    seen: list[Sample] = []
    for cls in load_connector(name).stream_classes:
        original = cls.changes

        def changes(self: Stream, page: Page, _original: Any = original) -> Any:
            if page.records:
                seen.append((self, Page(copy.deepcopy(page.records), page.cursor,
                                        version=page.version, path=page.path)))
            return _original(self, page)

        monkeypatch.setattr(cls, "changes", changes)
    result = sync_into(name, sandbox, Locations("sqlite", folder).new("capture"))
    assert result.status in ("succeeded", "reconciled"), result
    monkeypatch.undo()
    return seen


def _as_events(samples: list[Sample]) -> list[Sample]:
    """Stripe's listed objects again as the events stream reads them: wrapped in events."""
    events = next((s for s, _ in samples if s.name == "events"), None)
    if events is None:
        return []
    out = []
    for stream, page in samples:
        if stream.name == "events":
            continue
        wrapped = [{"id": f"evt_{i}_{o['id']}", "object": "event", "type":
                    f"{o['object']}.updated", "created": o["created"],
                    "api_version": page.version, "data": {"object": o}}
                   for i, o in enumerate(page.records[:20])]
        out.append((events, Page(wrapped, None, path="/v1/events")))
    return out


@pytest.fixture(scope="module")
def samples(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Sample]]:
    found = {}
    with pytest.MonkeyPatch.context() as mp:
        for name in CONNECTORS:
            got = _capture(name, sandbox, tmp_path_factory.mktemp(name), mp)
            found[name] = got + (_as_events(got) if name == "stripe" else [])
    return found


Key = str | int


def paths_of(value: Any, prefix: tuple[Key, ...] = (), depth: int = 4) -> Iterator[tuple[Key, ...]]:
    """Every path to a field or item within a record, a few levels deep."""
    if depth == 0:
        return
    items = (value.items() if isinstance(value, dict)
             else enumerate(value[:3]) if isinstance(value, list) else ())
    for key, inner in items:
        if key in ("_broadcast", "_outcome", "channel") and not prefix:
            continue  # fields our own reading adds, not the provider's
        yield (*prefix, key)
        yield from paths_of(inner, (*prefix, key), depth - 1)


def dotted(path: tuple[Key, ...]) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                               max_size=3),
    max_leaves=6,
)


def assert_clean(entity_name: str, row: dict[str, Any]) -> None:
    """A row the store can take as it is: every value of its column's declared type."""
    spec = entity(entity_name)
    for column, value in row.items():
        assert spec.has_field(column), (entity_name, column)
        field = spec.field(column)
        if value is None:
            continue
        kind = field.type
        where = (entity_name, column, value)
        if kind is FieldType.STRING:
            assert isinstance(value, str), where
        elif kind is FieldType.INTEGER:
            assert type(value) is int, where
        elif kind is FieldType.NUMBER:
            assert type(value) in (int, float) and math.isfinite(value), where
        elif kind is FieldType.BOOLEAN:
            assert type(value) is bool, where
        elif kind is FieldType.TIMESTAMP:
            assert isinstance(value, datetime) and value.tzinfo is not None, where
        elif kind is FieldType.STRING_LIST:
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), where
        elif kind is FieldType.STRUCT:
            assert isinstance(value, dict), where


#: streams whose records our reading builds around the provider's (``{"id", "topics"}``,
#: ``{"team_id", "auth", "team"}``): only what is inside them is the provider's
BUILT = {"contact_topics", "workspace"}

#: fields that switch a record's kind: a mutation there may blame a field of the other kind
KIND_FIELDS = {"object", "type"}


@pytest.mark.parametrize("connector", CONNECTORS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_field_gives_clean_rows_or_the_named_error(
    samples: dict[str, list[Sample]], connector: str, data: st.DataObject,
) -> None:
    pool = samples[connector]
    assert pool, f"{connector}: the sync normalized no records"
    # indices, not the objects: a drawn page would print whole in a failure report
    stream, page = pool[data.draw(st.integers(0, len(pool) - 1), label="page")]
    at = data.draw(st.integers(0, len(page.records) - 1), label="record")
    record = copy.deepcopy(page.records[at])
    note(f"{stream.name}: {record}")
    paths = [p for p in paths_of(record) if len(p) > 1 or stream.name not in BUILT]
    path = data.draw(st.sampled_from(paths), label="path")
    parent: Any = record
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values, label="value")
    try:
        changes = stream.changes(Page([record], page.cursor, version=page.version,
                                      path=page.path))
    except UnexpectedFieldError as exc:
        assert exc.stream == stream.name and stream.provider in str(exc)
        mutated = dotted(path)
        if not KIND_FIELDS & {k for k in path if isinstance(k, str)}:
            assert mutated.startswith(exc.field) or exc.field.startswith(mutated), (
                mutated, str(exc))
        return
    for entity_name, rows in changes.upserts.items():
        for row in rows:
            if not isinstance(row, Tombstone):
                assert_clean(entity_name, row)


# -- the kit: what is the provider's fault and what is ours ------------------------------------


class _Probe(Stream):
    """A stream whose normalize is given per test."""

    name = "probe"
    entities = ("contacts",)
    shape = Shape({"id": ID, "when": unix_time(required=True, nullable=False),
                   "tags": array(text(nullable=False)),
                   "inner": obj(Shape({"kind": one_of("a", "b")}))})

    def __init__(self, normalize: Any) -> None:
        self._normalize = normalize

    @property
    def provider(self) -> str:
        return "Probe"

    def read(self, slice: Any, cursor: Any) -> Iterator[Page]:
        raise NotImplementedError

    def normalize(self, raw: dict[str, Any]) -> Any:
        return self._normalize(raw)


GOOD = {"id": "p1", "when": 1_700_000_000, "tags": ["x"], "inner": {"kind": "a"}}


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"when": "1700000000"}, "when", "is a string, not an integer"),
    ({"when": True}, "when", "is a boolean, not an integer"),
    ({"when": None}, "when", "is null"),
    ({"when": 10**15}, "when", "not a time in Unix seconds"),
    ({"tags": ["x", 3]}, "tags[1]", "is an integer, not a string"),
    ({"inner": {"kind": "c"}}, "inner.kind", "not one of 'a', 'b'"),
    ({"inner": []}, "inner", "is an array, not an object"),
])
def test_a_shape_names_the_field_and_what_is_wrong(
    change: dict[str, Any], field: str, reason: str,
) -> None:
    stream = _Probe(lambda raw: iter(()))
    with pytest.raises(UnexpectedFieldError) as caught:
        stream.changes(Page([GOOD, {**GOOD, "id": "p2", **change}], None, path="/probe"))
    error = caught.value
    assert (error.record, error.field) == ("'p2'", field)
    assert reason in str(error)
    assert str(error).startswith("Probe on /probe: stream probe: unexpected response: "
                                 f"record 'p2': field '{field}'")
    assert error.exit_code == ExitCode.PROVIDER_UNAVAILABLE


def test_a_missing_field_is_named_and_a_record_without_id_by_its_place() -> None:
    stream = _Probe(lambda raw: iter(()))
    with pytest.raises(UnexpectedFieldError, match=r"record #2 of the page: field 'id' is "):
        stream.changes(Page([GOOD, {k: v for k, v in GOOD.items() if k != "id"}], None))


def test_a_bug_in_normalize_is_not_blamed_on_the_provider() -> None:
    """Only a shape's FieldError becomes the provider's fault: our own KeyError stays ours."""

    def buggy(raw: dict[str, Any]) -> Any:
        yield "contacts", {"id": raw["no such field"]}

    with pytest.raises(KeyError):
        _Probe(buggy).changes(Page([GOOD], None))


# -- a field read while reading (to plan, order or resume), before rows are made ---------------


class Spoiler:
    """A transport hook: ``spoil`` changes the records (under ``key``) of every answer on a
    path ending in ``path``, list probes included."""

    def __init__(self, path: str, key: str, spoil: Any) -> None:
        self.path, self.key, self.spoil = path, key, spoil
        self.inner = httpx.HTTPTransport()

    def __call__(self, request: httpx.Request, n: int) -> httpx.Response | None:
        if not request.url.path.endswith(self.path):
            return None
        response = self.inner.handle_request(request)
        body = json.loads(response.read())
        if isinstance(body.get(self.key), list):
            self.spoil(body[self.key])
        return httpx.Response(response.status_code, content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})


def test_a_bad_created_in_a_stripe_planning_probe_is_named(
    sandbox: Sandbox, tmp_path: Path,
) -> None:
    """Planning reads the newest and oldest ``created`` of a list before any page: the
    first record's bad time is named there, not an internal ValueError."""
    first: list[str] = []

    def spoil(records: list[Record]) -> None:
        if records:
            first.append(str(records[0]["id"]))
            records[0]["created"] = "yesterday"

    config = Config(connectors={"stripe": ConnectorConfig(max_attempts=2)})
    location = Locations("sqlite", tmp_path).new("probe")
    result = sync_into("stripe", sandbox, location, config=config,
                       transport=Wrapped(Spoiler("/v1/customers", "data", spoil)))
    failed = {s.stream: s for s in result.streams if s.status == "failed"}
    assert "customers" in failed, result.streams
    error = failed["customers"].error or ""
    show({"probe": error})
    assert failed["customers"].error_code == ExitCode.PROVIDER_UNAVAILABLE, error
    assert error.startswith("Stripe on /v1/customers: stream customers: unexpected response: "
                            f"record '{first[0]}': field 'created' is a string, not an integer")
    assert not snapshot(location)["clients"]



@pytest.mark.parametrize(("field", "value", "reason"), [
    ("ts", "yesterday", "is 'yesterday', not a Slack timestamp"),
    ("ts", {"a": 1}, "is an object, not a string"),
    ("ts", None, "is null"),
    ("ts", KeyError, "is missing"),
    ("thread_ts", "x", "is 'x', not a Slack timestamp"),
    ("user", ["x"], "is an array, not a string"),
])
def test_a_slack_message_field_read_while_reading_is_named(
    sandbox: Sandbox, tmp_path: Path, field: str, value: Any, reason: str,
) -> None:
    spoiled: list[str] = []

    def spoil(messages: list[Record]) -> None:
        if len(messages) >= 2:  # the second message of every history page of two or more
            spoiled.append(str(messages[1]["ts"]))
            if value is KeyError:
                del messages[1][field]
            else:
                messages[1][field] = value

    hook = Spoiler("/conversations.history", "messages", spoil)
    config = Config(connectors={"slack": ConnectorConfig(max_attempts=2)})
    location = Locations("sqlite", tmp_path).new("slack")
    result = sync_into("slack", sandbox, location, transport=Wrapped(hook), config=config)
    assert spoiled, "no history page held two messages"
    failed = {s.stream: s for s in result.streams if s.status == "failed"}
    assert set(failed) == {"messages"}, failed
    error = failed["messages"].error or ""
    show({"field": field, "error": error})
    assert failed["messages"].error_code == ExitCode.PROVIDER_UNAVAILABLE, error
    assert error.startswith("Slack on /conversations.history: stream messages: unexpected "
                            "response: record ")
    assert f"field '{field}' {reason}" in error
    stored = {row["source_id"].split("/")[-1]
              for row in snapshot(location)["notifications"].values()}
    assert not stored & set(spoiled), "messages of the spoiled pages were stored"


def test_a_broadcast_recipient_is_checked_too() -> None:
    """The sandbox's small data sends no broadcast to anyone: its recipients are checked
    here, through the row function the stream calls."""
    from cscor_tools.connectors.resend import normalize as resend
    from cscor_tools.connectors.shapes import FieldError
    from cscor_tools.schema import utc_now

    good = {"id": "r1", "contact_id": "c1", "email": "ann@example.com", "bounce_type": None}
    assert resend.recipient_row("b1", good, "sent", synced_at=utc_now())["status"] == "sent"
    for field, value in (("contact_id", 5), ("email", ["a"]), ("bounce_type", {})):
        with pytest.raises(FieldError, match=f"field '{field}' is "):
            resend.recipient_row("b1", {**good, field: value}, "sent", synced_at=utc_now())
