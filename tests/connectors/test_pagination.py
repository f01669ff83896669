"""Paginators walk every scheme to the end exactly once, and each loop guard fires."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cscor_tools.connectors.pagination import (
    AfterIdPaginator,
    BeforeIdPaginator,
    KeysetPaginator,
    NextCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    Walk,
)
from cscor_tools.errors import PaginationLoopError, UnexpectedResponseError

Server = Any  # (params: dict) -> body


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i:04d}", "updated": 100 + i // 3} for i in range(n)]


def after_id_server(items: list[dict[str, Any]], size: int) -> Server:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        ids = [r["id"] for r in items]
        start = ids.index(params["starting_after"]) + 1 if "starting_after" in params else 0
        return {"data": items[start:start + size], "has_more": start + size < len(items)}
    return serve


def before_id_server(items: list[dict[str, Any]], size: int) -> Server:
    """``items`` oldest first; pages are newest first, just newer than ``ending_before``."""
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        ids = [r["id"] for r in items]
        start = ids.index(params["ending_before"]) + 1
        page = items[start:start + size]
        return {"data": page[::-1], "has_more": start + size < len(items)}
    return serve


def next_cursor_server(items: list[dict[str, Any]], size: int) -> Server:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("cursor", "c0")[1:])
        nxt = f"c{start + size}" if start + size < len(items) else ""
        return {"ok": True, "members": items[start:start + size],
                "response_metadata": {"next_cursor": nxt}}
    return serve


def keyset_server(items: list[dict[str, Any]], size: int) -> Server:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        after = (params.get("after_updated", -1), params.get("after_id", ""))
        rest = [r for r in items if (r["updated"], r["id"]) > after]
        return {"data": rest[:size], "has_more": len(rest) > size}
    return serve


def page_server(items: list[dict[str, Any]], size: int, param: str, first: int) -> Server:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        start = (params["page"] - first) * size if param == "page" else params["offset"]
        return {"data": items[start:start + size]}
    return serve


def walk_all(paginator: Paginator, serve: Server, *, key: str = "data",
             token: Any = None) -> tuple[list[dict[str, Any]], Walk]:
    walk = Walk(paginator, provider="Acme", path="/things", stream="things", token=token)
    out: list[dict[str, Any]] = []
    for _ in range(10_000):
        body = serve(dict(walk.params()))
        page = body[key]
        more = walk.advance(body, page)
        out += page
        if not more:
            return out, walk
    raise AssertionError("the walk did not end")


@given(count=st.integers(0, 120), size=st.integers(1, 25))
def test_every_scheme_reads_every_record_once(count: int, size: int) -> None:
    items = records(count)
    cases: list[tuple[Paginator, Server, str]] = [
        (AfterIdPaginator(limit=size), after_id_server(items, size), "data"),
        (NextCursorPaginator(limit=size), next_cursor_server(items, size), "members"),
        (KeysetPaginator(limit=size), keyset_server(items, size), "data"),
        (PageNumberPaginator(limit=size), page_server(items, size, "page", 1), "data"),
        (OffsetPaginator(limit=size), page_server(items, size, "offset", 0), "data"),
    ]
    for paginator, serve, key in cases:
        got, _ = walk_all(paginator, serve, key=key)
        assert [r["id"] for r in got] == [r["id"] for r in items], type(paginator).__name__


@given(count=st.integers(1, 120), size=st.integers(1, 25), start=st.integers(0, 119))
def test_ending_before_walks_toward_newer_records(count: int, size: int, start: int) -> None:
    items = records(count)
    start = min(start, count - 1)
    got, walk = walk_all(BeforeIdPaginator(limit=size), before_id_server(items, size),
                         token=items[start]["id"])
    assert sorted(r["id"] for r in got) == [r["id"] for r in items[start + 1:]]
    if start < count - 1:
        assert walk.token == items[-1]["id"]  # the newest record read: where the next run starts


def test_a_keyset_walk_resumes_from_its_last_position() -> None:
    items = records(30)
    _, walk = walk_all(KeysetPaginator(limit=7), keyset_server(items, 7))
    assert walk.token == (items[-1]["updated"], items[-1]["id"])
    items += [{"id": "r9999", "updated": 999}]
    more, _ = walk_all(KeysetPaginator(limit=7), keyset_server(items, 7), token=walk.token)
    assert [r["id"] for r in more] == ["r9999"]


def test_a_cursor_seen_before_fails_naming_provider_path_and_cursor() -> None:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("cursor", "c0")[1:])
        # A server that sends its first page's cursor again from the third page on.
        nxt = "c5" if start >= 10 else f"c{start + 5}"
        return {"members": [{"id": f"u{start + i}"} for i in range(5)],
                "response_metadata": {"next_cursor": nxt}}

    with pytest.raises(PaginationLoopError) as err:
        walk_all(NextCursorPaginator(limit=5), serve, key="members")
    message = str(err.value)
    assert message.startswith("Acme on /things: stream things: unexpected response:")
    assert "'c5' was seen before" in message and "(cursor 'c10')" in message
    assert err.value.exit_code == 5


def test_a_page_of_ids_all_seen_already_fails() -> None:
    items = records(10)

    def serve(params: dict[str, Any]) -> dict[str, Any]:
        # Fresh cursors, but the same records every time: ids repeat, tokens do not.
        return {"members": items[:5], "response_metadata": {
            "next_cursor": f"x{len(params)}{params.get('cursor', '')}"}}

    with pytest.raises(PaginationLoopError, match="all seen already"):
        walk_all(NextCursorPaginator(limit=5), serve, key="members")


def test_more_promised_after_an_empty_page_fails_not_stops() -> None:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        return {"data": [], "has_more": True}

    with pytest.raises(PaginationLoopError, match="empty page said more would follow"):
        walk_all(AfterIdPaginator(limit=5), serve)


def test_the_same_starting_after_token_again_fails() -> None:
    def serve(params: dict[str, Any]) -> dict[str, Any]:
        # A server that ignores starting_after past the first page: ids r0..r4 then r5..r9
        # forever, so the second page's last id is the token again.
        if "starting_after" not in params:
            return {"data": [{"id": f"r{i}"} for i in range(5)], "has_more": True}
        return {"data": [{"id": f"r{i}"} for i in range(5, 10)], "has_more": True}

    with pytest.raises(PaginationLoopError):
        walk_all(AfterIdPaginator(limit=5), serve)


@pytest.mark.parametrize("body,what", [
    ({"data": [{"name": "no id"}], "has_more": False}, "without a usable 'id'"),
    ({"data": [{"id": "a"}]}, "does not say how to go on"),
    ({"data": [{"id": "a"}], "has_more": "yes"}, "does not say how to go on"),
])
def test_a_page_that_breaks_the_scheme_is_an_unexpected_response(body: Any, what: str) -> None:
    with pytest.raises(UnexpectedResponseError, match=what) as err:
        walk_all(AfterIdPaginator(limit=5), lambda params: body)
    assert not isinstance(err.value, PaginationLoopError)


def test_a_resumed_walk_refuses_its_own_start_token_and_can_restart_before_reading() -> None:
    walk = Walk(AfterIdPaginator(), provider="Acme", path="/p", token="r3")
    assert ("starting_after", "r3") in walk.params()
    walk.restart()
    assert walk.params() == [("limit", 100)]
    walk.advance({"data": [{"id": "a"}], "has_more": False}, [{"id": "a"}])
    with pytest.raises(RuntimeError):
        walk.restart()


@given(count=st.integers(1, 120), size=st.integers(1, 25), data=st.data())
def test_a_walk_ended_part_way_down_a_page_keeps_what_came_before_and_can_resume_there(
        count: int, size: int, data: st.DataObject) -> None:
    """``until`` stops at its first record: the records before it are kept, no page follows,
    and a walk started from the token reads on from the record it stopped at."""
    items = records(count)
    cut = data.draw(st.integers(0, count - 1))
    asked: list[str] = []

    def until(record: dict[str, Any]) -> bool:
        asked.append(record["id"])
        return bool(record["id"] == items[cut]["id"])

    for paginator, serve in [(AfterIdPaginator(limit=size), after_id_server(items, size)),
                             (KeysetPaginator(limit=size), keyset_server(items, size))]:
        asked.clear()
        walk = Walk(paginator, provider="Acme", path="/things", stream="things")
        got: list[dict[str, Any]] = []
        while True:
            body = serve(dict(walk.params()))
            more = walk.advance(body, body["data"], until=until)
            got += walk.kept
            if not more:
                break
        assert [r["id"] for r in got] == [r["id"] for r in items[:cut]]
        assert walk.ended and asked == [r["id"] for r in items[:cut + 1]]  # none asked after
        rest, _ = walk_all(paginator, serve, token=walk.token)
        assert [r["id"] for r in rest] == [r["id"] for r in items[cut:]]
        with pytest.raises(RuntimeError):
            walk.advance(body, body["data"])


def test_a_walk_that_until_never_stops_reads_to_the_end() -> None:
    items = records(30)
    walk = Walk(AfterIdPaginator(limit=7), provider="Acme", path="/p")
    got: list[dict[str, Any]] = []
    serve = after_id_server(items, 7)
    while True:
        body = serve(dict(walk.params()))
        more = walk.advance(body, body["data"], until=lambda r: False)
        got += walk.kept
        if not more:
            break
    assert len(got) == 30 and not walk.ended
