"""The HTTP server: stdlib threads, HTTP/1.1 keep-alive, and full control of the socket.

It carries out a :class:`~cscor_tools.sandbox.app.Delivery`: waits the latency, then writes
the response whole, slowly (in chunks with pauses), cut short (a Content-Length larger than
the bytes sent, then close) or not at all (a reset: SO_LINGER 0 makes close send RST).
It binds 127.0.0.1 only. An exception inside the sandbox becomes a 500 and is kept in
``internal_errors``, so tests can assert that none happened.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cscor_tools.sandbox.app import Delivery, SandboxApp
from cscor_tools.sandbox.config import FaultKind
from cscor_tools.sandbox.wire import Request, Response

HOST = "127.0.0.1"
_SLOW_CHUNKS = 8


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SandboxServer

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # library code never prints; stats and internal_errors say what happened

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            delivery = self.server.app.dispatch(Request(self.command, path, query, headers, body))
        except Exception:  # a sandbox bug must not look like a provider's behaviour
            self.server.internal_errors.append(traceback.format_exc())
            delivery = Delivery(Response.json(500, {"error": "internal sandbox error"}))
        if delivery.delay > 0:
            time.sleep(delivery.delay)
        try:
            self._deliver(delivery)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _head(self, r: Response, keep_alive: bool) -> bytes:
        lines = [
            f"HTTP/1.1 {r.status} {_reason(r.status)}",
            "Server: cscor-sandbox",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Type: {r.content_type}",
            f"Content-Length: {len(r.body)}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
        ]
        lines += [f"{name}: {value}" for name, value in r.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _deliver(self, delivery: Delivery) -> None:
        r = delivery.response
        fault = delivery.transport_fault
        client_wants_close = (self.headers.get("Connection") or "").lower() == "close"
        keep_alive = not client_wants_close and fault not in (FaultKind.TRUNCATED,
                                                              FaultKind.RESET)
        self.close_connection = not keep_alive
        if fault is FaultKind.RESET:
            # linger 0: close() discards the connection with a RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            return
        head = self._head(r, keep_alive)
        if fault is FaultKind.TRUNCATED:
            self.wfile.write(head + r.body[: len(r.body) // 2])
            return  # closed after return: fewer bytes than Content-Length promised
        if fault is FaultKind.SLOW:
            self.wfile.write(head)
            size = max(1, -(-len(r.body) // _SLOW_CHUNKS))
            pause = delivery.slow_seconds / _SLOW_CHUNKS
            for start in range(0, len(r.body), size):
                time.sleep(pause)
                self.wfile.write(r.body[start : start + size])
            return
        self.wfile.write(head + r.body)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class SandboxServer(ThreadingHTTPServer):
    """One thread per connection; idle keep-alive connections do not hold up shutdown."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, app: SandboxApp, port: int = 0) -> None:
        super().__init__((HOST, port), _Handler)
        self.app = app
        self.internal_errors: list[str] = []
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # connection-level trouble (a client hanging up mid-request) is routine here
        pass

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"cscor-sandbox:{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
