"""Run a Stripe sync that SIGKILLs itself on receiving its k-th response (the kill test).

    python -m tests.connectors.stripe.kill_child BASE_URL WORKSPACE K
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import httpx

from cscor_tools.sandbox.config import CREDENTIALS
from cscor_tools.workspace import sync_connector


class KillingTransport(httpx.HTTPTransport):
    """Dies, like a machine losing power, the moment the k-th answer arrives: pages before it
    may be committed, others are in flight or half-written."""

    def __init__(self, kill_at: int) -> None:
        super().__init__()
        self.kill_at = kill_at
        self.seen = 0
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self.lock:
            self.seen += 1
            if self.seen == self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return response


def main() -> None:
    base_url, workspace, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sync_connector("stripe", workspace=workspace, base_url=base_url,
                   env={"STRIPE_API_KEY": CREDENTIALS["stripe"]},
                   transport=KillingTransport(kill_at))


if __name__ == "__main__":
    main()
