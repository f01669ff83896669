"""The offline demo: a sandbox stands in for the providers; sync everything, then export.

No keys and no network: every installed connector that names a sandbox provider syncs from a
sandbox on 127.0.0.1 into a fresh embedded workspace, and the workspace is exported as a
bundle under the `portability` policy.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cscor_tools.connectors import available_connectors, load_connector
from cscor_tools.errors import ConfigError, CscorError
from cscor_tools.export import ExportResult, export_bundle
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store
from cscor_tools.sync import SyncResult
from cscor_tools.workspace import sync_connector

#: a file that marks a folder as made by the demo, so a re-run may clear it and nothing else
MARKER = ".cscor-demo"


@dataclass
class DemoResult:
    out: Path
    workspace: Path
    sandbox_url: str
    syncs: list[SyncResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    export: ExportResult | None = None
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "workspace": str(self.workspace),
            "sandbox": self.sandbox_url,
            "syncs": [s.as_dict() for s in self.syncs],
            "skipped": self.skipped,
            "rows": self.rows,
            "export": self.export.as_dict() if self.export else None,
            "duration_s": round(self.duration_s, 3),
        }


def run_demo(
    out: str | Path = "cscor-demo",
    *,
    seed: int = 42,
    scale: float = 1.0,
    export_format: str = "jsonl",
    policy: str = "portability",
    on_step: Callable[[str], None] | None = None,
) -> DemoResult:
    """Sync every sandbox-capable connector into ``out/workspace.db`` and export a bundle
    to ``out/bundle``. ``out`` must be new, or a folder an earlier demo made."""
    say = on_step or (lambda _message: None)
    started = time.monotonic()
    folder = _prepare(Path(out))
    workspace = folder / "workspace.db"
    with Sandbox(seed=seed, scale=scale) as sb:
        result = DemoResult(folder, workspace, sb.url)
        say(f"sandbox serving Stripe, Resend and Slack at {sb.url}")
        store = open_store(workspace)
        try:
            for name in available_connectors():
                try:
                    cls = load_connector(name)
                except CscorError as exc:
                    result.skipped[name] = str(exc)
                    continue
                provider = cls.sandbox_provider
                if provider is None:
                    result.skipped[name] = "no sandbox stands in for its provider"
                    continue
                env = {cls.credential_env: sb.credentials(provider)} if cls.credential_env else {}
                say(f"syncing {name} from the sandbox's {provider}")
                # The sandbox sets no rate limit; a high one keeps the demo short.
                sync = sync_connector(name, store=store, base_url=sb.base_url(provider),
                                      env=env, rate_limit=500.0)
                result.syncs.append(sync)
            result.rows = store.counts()
            say(f"exporting the workspace ({policy}, {export_format})")
            result.export = export_bundle(store, folder / "bundle", format=export_format,
                                          policy=policy)
        finally:
            store.close()
    result.duration_s = time.monotonic() - started
    return result


def _prepare(folder: Path) -> Path:
    if folder.exists():
        if not (folder / MARKER).is_file():
            raise ConfigError(
                f"{folder} exists and was not made by `cscor demo`: choose another --out"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, mode=0o700)
    (folder / MARKER).write_text("made by `cscor demo`; safe to delete\n")
    return folder.resolve()
