"""Secrets: syncs with sentinel credentials (refused, then accepted), an export and an import
with rejects; every log line, message, table row and file written is scanned for them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.reliability.workspaces import REPO, Locations, sandboxed_connectors, sync_into

# -- secrets ----------------------------------------------------------------------------------

#: distinctive values no code path makes up, per provider: the key the sandbox accepts, then
#: one it refuses (the error paths). A hit anywhere is a leak. The provider's prefix, then
#: dots no real key holds: they cannot be taken for a credential.
SENTINELS = {
    "stripe": ("sk_live_FAKE.notAkey.SENTINEL", "rk_live_FAKE.notAkey.SENTINEL"),
    "resend": ("re_FAKE.notAkey.SENTINEL", "re_FAKE.refused.SENTINEL"),
    "slack": ("xoxb-FAKE.notAtoken.SENTINEL", "xoxb-FAKE.refused.SENTINEL"),
}
WEBHOOK_SENTINEL = "https://hooks.example.invalid/services/FAKE/notAwebhook/SENTINEL"


@dataclass
class ScanFigure:
    files: int = 0
    rows: int = 0
    lines: int = 0
    hits: list[str] = field(default_factory=list)

    def scan_text(self, where: str, text: str, secrets: Sequence[str]) -> None:
        self.lines += text.count("\n") + 1
        for secret in secrets:
            if secret in text:
                self.hits.append(f"{where}: {secret[:6]}…")

    def scan_tree(self, root: Path, secrets: Sequence[str]) -> None:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            data = path.read_bytes()
            self.files += 1
            for secret in secrets:
                if secret.encode() in data:
                    self.hits.append(f"{path.name}: {secret[:6]}…")

    def scan_store(self, location: str, secrets: Sequence[str]) -> None:
        """Every row of every table, state and run log included, as text."""
        from cscor_tools.store import open_store

        with open_store(location) as store:
            tables = sorted(store._columns())
            for table in tables:
                for row in store._query(f'SELECT * FROM "{table}"'):
                    self.rows += 1
                    text = repr(row)
                    for secret in secrets:
                        if secret in text:
                            self.hits.append(f"{table} row: {secret[:6]}…")


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def all_sentinels() -> list[str]:
    return [s for values in SENTINELS.values() for s in values] + [WEBHOOK_SENTINEL]


def secrets_scan(locs: Locations, work: Path, *, scale: float = 0.2) -> ScanFigure:
    """Sync every connector from a sandbox that accepts only sentinel keys, with a refused
    sentinel key then the accepted one; export; import with rejects; scan logs, messages,
    the store (every table) and every file written, and the repository's cassettes."""
    from cscor_tools.sandbox import Sandbox

    figure = ScanFigure()
    secrets = all_sentinels()
    with Sandbox(seed=14, scale=scale,
                 credentials={p: keys[0] for p, keys in SENTINELS.items()}) as sb:
        _sentinel_runs(sb, locs, work, figure, secrets)
    figure.scan_tree(REPO / "cassettes", secrets)
    return figure


def _sentinel_runs(sb: Any, locs: Locations, work: Path, figure: ScanFigure,
                   secrets: list[str]) -> None:
    from cscor_tools.connectors import load_connector
    from cscor_tools.export import export_bundle
    from cscor_tools.imports import import_file
    from cscor_tools.store import open_store

    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    messages: list[str] = []
    location = locs.new("secrets")
    try:
        for name in sandboxed_connectors():
            provider = load_connector(name).sandbox_provider
            assert provider
            accepted, refused = SENTINELS[provider]
            result = sync_into(name, sb, location, key=refused)
            assert result.status == "failed", result  # the error path, taken
            messages.append(repr(result))
            messages += [s.error or "" for s in result.streams]
            result = sync_into(name, sb, location, key=accepted)
            assert result.status == "succeeded", result
            messages.append(repr(result))
        bundle = work / "bundle"
        export_bundle(location, bundle, policy="portability")
        bad = work / "clients.csv"
        bad.write_text("email,name,rating\nnot-an-address,Ann,9\nbob@example.com,Bob,3\n")
        rejects = work / "clients.rejects.csv"
        with open_store(location) as store:
            imported = import_file(bad, store=store, rejects=rejects, entity="clients")
        messages.append(repr(imported))
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    for record in capture.records:
        figure.scan_text("log", record.getMessage() + repr(record.__dict__), secrets)
    for i, text in enumerate(messages):
        figure.scan_text(f"message {i}", text, secrets)
    figure.scan_store(location, secrets)
    figure.scan_tree(work, secrets)
