"""The admin URL the sandbox prints answers with an index; a taken port is found before any
data is generated; the credentials it accepts can be chosen, so a sync can be scanned for one."""

from __future__ import annotations

import importlib
import socket
import sqlite3
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cscor_tools.cli.sandbox import sandbox as sandbox_command
from cscor_tools.errors import ExitCode
from cscor_tools.sandbox import Sandbox
from cscor_tools.sandbox.errors import SandboxError
from cscor_tools.store import open_store
from cscor_tools.workspace import sync_connector

KEY = "sk_test_FAKE.notAkey.Distinctive"


def test_the_admin_url_serves_an_index_of_what_answers_there(sandbox: Sandbox) -> None:
    index = httpx.get(f"{sandbox.url}/_sandbox/")
    assert index.status_code == 200
    endpoints = index.json()["endpoints"]
    assert {"method": "GET", "path": "/_sandbox/stats",
            "description": "per provider: requests, statuses, 429s, faults, objects"} in endpoints
    for e in endpoints:
        if e["method"] == "GET":
            path = e["path"].replace("=K", "=stripe.customers")
            assert httpx.get(f"{sandbox.url}{path}").status_code == 200, e


def test_a_taken_port_is_refused_before_any_data_is_generated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = importlib.import_module("cscor_tools.sandbox.sandbox")

    def never(*args: object, **kw: object) -> None:
        raise AssertionError("the world was generated before the port was checked")

    monkeypatch.setattr(module, "World", never)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}"):
            Sandbox(port=port, scale=100).start()
        for process in (False, True):
            with pytest.raises(SandboxError, match="cannot listen"):
                Sandbox(port=port, process=process).start()


def test_a_sync_with_a_chosen_key_leaves_it_nowhere(tmp_path: Path) -> None:
    with Sandbox(seed=3, scale=0.05, credentials={"stripe": KEY}) as sb:
        assert sb.credentials("stripe") == KEY and sb.credentials("slack") == "xoxb-sandbox"
        with open_store(tmp_path / "w.db") as store:
            refused = sync_connector("stripe", store=store, base_url=sb.base_url("stripe"),
                                     env={"STRIPE_API_KEY": "sk_test_sandbox"})
            assert refused.exit_code == ExitCode.PROVIDER_AUTH
            result = sync_connector("stripe", store=store, base_url=sb.base_url("stripe"),
                                    env={"STRIPE_API_KEY": KEY})
            assert sum(result.rows().values()) > 0
    with sqlite3.connect(tmp_path / "w.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_the_subprocess_sandbox_takes_its_key_from_the_environment_not_argv() -> None:
    with Sandbox(scale=0.05, process=True, credentials={"stripe": KEY}) as sb:
        ok = httpx.get(f"{sb.base_url('stripe')}/v1/customers",
                       headers={"Authorization": f"Bearer {KEY}"})
        refused = httpx.get(f"{sb.base_url('stripe')}/v1/customers",
                            headers={"Authorization": "Bearer sk_test_sandbox"})
        assert (ok.status_code, refused.status_code) == (200, 401)
        child = sb._child
        assert child is not None and KEY not in " ".join(map(str, child.args))


def test_serve_takes_keys_from_flags_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, int] = {}

    def probe(sb: Sandbox, duration: float | None) -> None:
        for provider, key in (("stripe", KEY), ("stripe", "sk_test_sandbox")):
            seen[key] = httpx.get(f"{sb.base_url(provider)}/v1/customers",
                                  headers={"Authorization": f"Bearer {key}"}).status_code
        seen["slack"] = httpx.post(f"{sb.base_url('slack')}auth.test",
                                   data={"token": "xoxb-mine"}).json()["ok"]

    module = importlib.import_module("cscor_tools.cli.sandbox")
    monkeypatch.setattr(module, "_wait", probe)
    monkeypatch.setenv("CSCOR_SANDBOX_STRIPE_KEY", KEY)
    result = CliRunner().invoke(sandbox_command, ["serve", "--port", "0", "--scale", "0.05",
                                                  "--slack-token", "xoxb-mine"])
    assert result.exit_code == 0, result.output
    assert seen == {KEY: 200, "sk_test_sandbox": 401, "slack": True}
    assert KEY not in result.output and "xoxb-mine" not in result.output
    assert "(the key you gave)" in result.output and "re_sandbox" in result.output
    bad = CliRunner().invoke(sandbox_command, ["serve", "--port", "0", "--stripe-key", "a b"])
    assert bad.exit_code == 2 and "without spaces" in bad.output
