"""Resend's responses match its OpenAPI schemas; its pagination, errors, User-Agent rule and
rate-limit headers behave as documented."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import resend

from cscor_tools.sandbox import Sandbox

from .conftest import client_for
from .specs import resend_problems

LISTS = {
    # path: (list schema, retrieve schema)
    "/emails": ("ListEmailsResponse", "Email"),
    "/contacts": ("ListContactsResponseSuccess", "GetContactResponseSuccess"),
    "/domains": ("ListDomainsResponse", "Domain"),
    "/segments": ("ListSegmentsResponseSuccess", "GetSegmentResponseSuccess"),
    "/audiences": ("ListAudiencesResponseSuccess", "GetAudienceResponseSuccess"),
    "/broadcasts": ("ListBroadcastsResponseSuccess", "GetBroadcastResponseSuccess"),
    "/emails/receiving": ("ListReceivedEmailsResponse", "GetReceivedEmailResponse"),
    "/topics": ("ListTopicsResponseSuccess", "GetTopicResponseSuccess"),
}


def _walk(http: httpx.Client, path: str, limit: int = 7) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http.get(path, params={"limit": limit, **({"after": cursor} if cursor else {})})
        seen += page.json()["data"]
        if not page.json()["has_more"]:
            return seen
        cursor = seen[-1]["id"]


@pytest.mark.parametrize("path", list(LISTS))
def test_lists_and_objects_match_the_openapi_schemas(resend_http: httpx.Client,
                                                     path: str) -> None:
    list_schema, item_schema = LISTS[path]
    page = resend_http.get(path, params={"limit": 5})
    assert page.status_code == 200
    body = page.json()
    assert resend_problems(body, list_schema) == []
    assert body["object"] == "list" and isinstance(body["has_more"], bool) and body["data"]
    for item in body["data"][:3]:
        single = resend_http.get(f"{path}/{item['id']}")
        assert single.status_code == 200
        assert resend_problems(single.json(), item_schema) == []
        assert single.json()["id"] == item["id"]


def test_emails_page_by_default_older_lists_return_everything(sandbox: Sandbox,
                                                              resend_http: httpx.Client) -> None:
    counts = sandbox.expected_counts()
    emails = resend_http.get("/emails").json()
    assert len(emails["data"]) == 20 and emails["has_more"] is True
    contacts = resend_http.get("/contacts").json()
    assert len(contacts["data"]) == counts["resend.contacts"] and not contacts["has_more"]


@pytest.mark.parametrize("path", ["/emails", "/contacts", "/broadcasts"])
def test_after_and_before_walk_every_object_once(sandbox: Sandbox, resend_http: httpx.Client,
                                                 path: str) -> None:
    kind = f"resend.{path.strip('/')}"
    expected = sandbox.expected_ids(kind)
    forward = [item["id"] for item in _walk(resend_http, path)]
    assert forward == expected
    # backwards: from the oldest object towards the newest
    assert _walk_back(resend_http, path, expected[-1]) == expected[:-1][::-1]


def _walk_back(http: httpx.Client, path: str, start: str) -> list[str]:
    seen: list[str] = []
    cursor = start
    while True:
        page = http.get(path, params={"limit": 6, "before": cursor}).json()
        seen += [item["id"] for item in reversed(page["data"])]
        if not page["has_more"] or not page["data"]:
            return seen
        cursor = page["data"][0]["id"]


def test_contacts_filter_by_segment_and_retrieve_by_email(resend_http: httpx.Client) -> None:
    segments = resend_http.get("/segments").json()["data"]
    customers = next(s for s in segments if s["name"] == "Customers")
    members = resend_http.get("/contacts", params={"segment_id": customers["id"]}).json()["data"]
    everyone = resend_http.get("/contacts").json()["data"]
    assert 0 < len(members) < len(everyone)
    by_email = resend_http.get(f"/contacts/{members[0]['email']}")
    assert by_email.status_code == 200 and by_email.json()["id"] == members[0]["id"]


def test_emails_carry_last_event_and_bodies(resend_http: httpx.Client) -> None:
    listed = resend_http.get("/emails", params={"limit": 100}).json()["data"]
    events = {e["last_event"] for e in listed}
    assert events & {"delivered", "opened", "clicked"}
    assert all("html" not in e for e in listed)  # the list returns references
    full = resend_http.get(f"/emails/{listed[-1]['id']}").json()
    assert full["object"] == "email" and full["html"].startswith("<p>") and full["text"]


ERRORS = [
    # (headers, path, params, status, name)
    ({"Authorization": ""}, "/emails", {}, 401, "missing_api_key"),
    ({"Authorization": "Bearer re_not_this_one"}, "/emails", {}, 403, "invalid_api_key"),
    ({}, "/emails/7f7e2b8c-0000-4000-8000-000000000000", {}, 404, "not_found"),
    ({}, "/nothing-here", {}, 404, "not_found"),
    ({}, "/emails", {"limit": 0}, 422, "validation_error"),
    ({}, "/emails", {"limit": 101}, 422, "validation_error"),
    ({}, "/emails", {"after": "a", "before": "b"}, 422, "validation_error"),
]


@pytest.mark.parametrize(("headers", "path", "params", "status", "name"), ERRORS)
def test_errors_use_resends_error_body(resend_http: httpx.Client, headers: dict[str, str],
                                       path: str, params: dict[str, Any], status: int,
                                       name: str) -> None:
    response = resend_http.get(path, params=params, headers=headers)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"statusCode", "message", "name"}
    assert body["statusCode"] == status and body["name"] == name and body["message"]


def test_no_user_agent_is_refused_at_the_edge(sandbox: Sandbox) -> None:
    # httpx always sends a User-Agent unless told not to
    with httpx.Client(base_url=sandbox.base_url("resend")) as http:
        request = http.build_request("GET", "/emails", headers={
            "Authorization": f"Bearer {sandbox.credentials('resend')}"})
        del request.headers["User-Agent"]
        response = http.send(request)
    assert response.status_code == 403
    assert response.text == "error code: 1010"


def test_rate_limit_headers_and_429_body() -> None:
    # a token every 5 s: the four requests below are refused whatever the machine's load
    with Sandbox(seed=1, scale=0.02, rate_limit={"resend": 0.2}, burst=2) as sb, \
            client_for(sb, "resend") as http:
        answers = [http.get("/domains") for _ in range(4)]
        first, last = answers[0], answers[-1]
        assert first.status_code == 200
        assert first.headers["ratelimit-limit"] == "2"
        assert first.headers["ratelimit-remaining"] == "1"
        assert int(first.headers["ratelimit-reset"]) >= 1
        assert last.status_code == 429
        assert last.json()["name"] == "rate_limit_exceeded"
        assert int(last.headers["retry-after"]) >= 1
        assert sb.stats()["resend"]["rate_limited"] == sum(a.status_code == 429
                                                           for a in answers)


def test_every_response_describes_resends_default_limit(sandbox: Sandbox) -> None:
    # no Resend limit is set: the headers show Resend's documented 2/s, which is not enforced
    with client_for(sandbox, "resend") as http:
        answers = [http.get("/domains") for _ in range(6)]
        answers += [http.get("/emails/missing"), http.get("/nowhere"),
                    http.get("/domains", headers={"Authorization": "Bearer re_wrong"})]
    assert [a.status_code for a in answers] == [200] * 6 + [404, 404, 403]
    for answer in answers:
        assert answer.headers["ratelimit-limit"] == "2"
        assert answer.headers["ratelimit-remaining"] == "2"
        assert answer.headers["ratelimit-reset"] == "0"
        assert "retry-after" not in answer.headers


def test_the_resend_sdk_reads_the_sandbox(sandbox: Sandbox) -> None:
    saved = resend.api_key, resend.api_url
    resend.api_key, resend.api_url = sandbox.credentials("resend"), sandbox.base_url("resend")
    try:
        emails = resend.Emails.list({"limit": 100})
        assert len(emails["data"]) == min(100, sandbox.expected_counts()["resend.emails"])
        contacts = resend.Contacts.list()
        assert len(contacts["data"]) == sandbox.expected_counts()["resend.contacts"]
        assert resend.Domains.list()["data"]
    finally:
        resend.api_key, resend.api_url = saved


@pytest.fixture(scope="module")
def sent_broadcasts() -> Any:
    """A sandbox large enough to have sent broadcasts (the shared one has one draft)."""
    with Sandbox(seed=7, scale=0.5) as sb, client_for(sb, "resend") as http:
        listed = http.get("/broadcasts").json()["data"]
        yield sb, http, [b for b in listed if b["status"] == "sent"], listed
        assert not sb.internal_errors, sb.internal_errors[0]


RECIPIENT_TYPES = ("sent", "delivered", "opened", "clicked", "bounced", "complained",
                   "unsubscribed", "suppressed")


@pytest.mark.parametrize("kind", RECIPIENT_TYPES)
def test_broadcast_recipients_match_the_schema_and_walk_once(sent_broadcasts: Any,
                                                             kind: str) -> None:
    _, http, sent, _ = sent_broadcasts
    assert sent
    everyone: set[str] = set()
    for broadcast in sent:
        path = f"/broadcasts/{broadcast['id']}/recipients"
        page = http.get(path, params={"type": kind, "limit": 3})
        assert page.status_code == 200
        assert resend_problems(page.json(), "ListBroadcastRecipientsResponseSuccess") == []
        rows = _walk_typed(http, path, kind)
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids))
        everyone |= {f"{broadcast['id']}/{r['contact_id']}" for r in rows}
        if kind == "sent":
            sent_to = {r["contact_id"] for r in rows}
        else:
            assert {r["contact_id"] for r in rows} <= {
                r["contact_id"] for r in _walk_typed(http, path, "sent")}
        if kind == "bounced":
            assert all(r["bounce_type"] in ("permanent", "transient", "undetermined")
                       for r in rows)
        if kind in ("opened", "clicked"):
            assert all(r["count"] >= 1 for r in rows)
    if kind == "sent":
        assert sent_to and len(everyone) == sent_broadcasts[0].expected_counts()[
            "resend.broadcast_recipients"]


def _walk_typed(http: httpx.Client, path: str, kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"type": kind, "limit": 7, **({"after": cursor} if cursor else {})}
        body = http.get(path, params=params).json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        cursor = rows[-1]["id"]


def test_a_draft_has_no_recipients_and_the_type_is_required(sent_broadcasts: Any) -> None:
    _, http, _, listed = sent_broadcasts
    draft = next(b for b in listed if b["status"] == "draft")
    path = f"/broadcasts/{draft['id']}/recipients"
    assert http.get(path, params={"type": "sent"}).json()["data"] == []
    missing = http.get(path)
    assert missing.status_code == 422 and missing.json()["name"] == "validation_error"


def test_a_contacts_segments_and_topics_match_the_schema(sent_broadcasts: Any) -> None:
    sb, http, _, _ = sent_broadcasts
    world = sb.world.resend
    topics = {t.id: t for t in world.topics}
    for contact in list(world.contacts)[:10]:
        segments = http.get(f"/contacts/{contact.id}/segments").json()
        assert resend_problems(segments, "ListContactSegmentsResponseSuccess") == []
        assert {s["id"] for s in segments["data"]} == contact.segments
        chosen = http.get(f"/contacts/{contact.email}/topics").json()
        assert resend_problems(chosen, "GetContactTopicsResponseSuccess") == []
        assert {t["id"]: t["subscription"] for t in chosen["data"]} == {
            t.id: contact.topics.get(t.id, t.default_subscription) for t in topics.values()}
    assert http.get("/contacts/nobody@example.com/topics").status_code == 404


def test_the_sdk_pages_nothing_itself(sandbox: Sandbox) -> None:
    """Why the connector reads through the kit: the SDK's list is one page, a module global
    holds its key."""
    saved = resend.api_key, resend.api_url
    resend.api_key, resend.api_url = sandbox.credentials("resend"), sandbox.base_url("resend")
    try:
        first = resend.Emails.list({"limit": 10})
        assert len(first["data"]) == 10 and first["has_more"] is True
    finally:
        resend.api_key, resend.api_url = saved
