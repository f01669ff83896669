"""Named jobs of cscor.toml with a schedule: the workers' periodic deferrer queues them when due."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import pytest

from cscor_tools.config import Config, ConnectorConfig, parse_config
from cscor_tools.errors import ConfigError
from cscor_tools.sandbox.accounts import SandboxAccounts
from cscor_tools.store import open_store
from cscor_tools.workers import Queue
from cscor_tools.workers.runner import _serve, register_schedules


def test_a_schedule_is_a_cron_expression() -> None:
    with pytest.raises(ConfigError, match=r"jobs\.nightly\.schedule"):
        parse_config({"jobs": {"nightly": {"connectors": ["stripe"], "schedule": "nightly"}}})
    config = parse_config({"jobs": {"nightly": {"connectors": ["stripe"],
                                                "schedule": "61 2 * * *"}}})
    app = Queue("postgresql://localhost/q").app()
    with pytest.raises(ConfigError, match=r"jobs\.nightly\.schedule: '61 2 \* \* \*'"):
        register_schedules(app, config)


@pytest.mark.postgres
def test_a_due_job_queues_its_syncs(queue_url: str, new_schema: Callable[[], str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = new_schema()
    queue = Queue(queue_url)
    queue.install()
    with SandboxAccounts(["acme"], scale=0.02) as sb:
        monkeypatch.setenv("STRIPE_API_KEY", sb.credentials("acme", "stripe"))
        config = parse_config({"jobs": {"often": {
            "connectors": ["stripe"], "schedule": "* * * * * *", "workspace": workspace}}})
        config = Config(config.workspace, {"stripe": ConnectorConfig(
            base_url=sb.base_url("stripe"), rate_limit=100)}, config.jobs)
        app = queue.app()
        assert register_schedules(app, config) == ["often"]

        async def until_synced() -> None:
            worker = asyncio.create_task(_serve(queue, app, config=config, concurrency=1,
                                                wait=True, heartbeat=0.5, name="test"))
            try:
                for _ in range(300):
                    done = [j.task for j in await asyncio.to_thread(queue.jobs)
                            if j.status == "succeeded"]
                    if "cscor:sync" in done and "cscor:scheduled" in done:
                        return
                    await asyncio.sleep(0.1)
                pytest.fail(f"nothing ran: {await asyncio.to_thread(queue.jobs)}")
            finally:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker

        asyncio.run(until_synced())
    with open_store(workspace) as store:
        assert store.count("clients") > 0
