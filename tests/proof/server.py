"""A tiny paginated "ledger" API on 127.0.0.1 for the proof connector.

GET /items?after_updated=T&after_id=I&limit=N returns items ordered by (updated, id) strictly
after the given position, with `has_more`. Deleted items stay in the feed with `deleted: true`,
as a change feed does. Faults are scripted: a list of (status, headers) answered before real
pages, and a hook fired after the k-th page served (the kill test uses it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "proof-token"


class Ledger:
    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.clock = 1_000
        self.items: dict[str, dict[str, Any]] = {}
        for i in range(count):
            self._put(f"it_{i:05d}", name=f"Item {i}", email=f"person{i}@example.com")

    def _put(self, item_id: str, **fields: Any) -> None:
        self.clock += 1
        item = self.items.get(item_id, {"id": item_id, "created": self.clock, "deleted": False})
        item.update(fields, updated=self.clock)
        self.items[item_id] = item

    def update(self, item_id: str, **fields: Any) -> None:
        with self.lock:
            self._put(item_id, **fields)

    def delete(self, item_id: str) -> None:
        with self.lock:
            self._put(item_id, deleted=True)

    def page(self, after: tuple[int, str], limit: int) -> tuple[list[dict[str, Any]], bool]:
        with self.lock:
            ordered = sorted(self.items.values(), key=lambda it: (it["updated"], it["id"]))
        rest = [it for it in ordered if (it["updated"], it["id"]) > after]
        return [dict(it) for it in rest[:limit]], len(rest) > limit


class LedgerServer:
    def __init__(self, count: int = 250) -> None:
        self.ledger = Ledger(count)
        self.faults: list[tuple[int, dict[str, str]]] = []
        self.pages_served = 0
        self.requests = 0
        self.on_page: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> LedgerServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests += 1
            fault = self.faults.pop(0) if self.faults else None
        if h.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(h, 401, {"error": {"message": "invalid token"}})
            return
        if fault is not None:
            status, headers = fault
            self._send(h, status, {"error": {"message": f"injected {status}"}}, headers)
            return
        url = urlparse(h.path)
        if url.path != "/items":
            self._send(h, 404, {"error": {"message": "no such path"}})
            return
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        after = (int(q.get("after_updated", 0)), q.get("after_id", ""))
        items, more = self.ledger.page(after, int(q.get("limit", 50)))
        self._send(h, 200, {"data": items, "has_more": more})
        with self._lock:
            self.pages_served += 1
            served = self.pages_served
        if self.on_page is not None:
            self.on_page(served)
