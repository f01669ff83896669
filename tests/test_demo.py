"""`cscor demo`: offline, no keys, a workspace and a bundle at the end."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode
from cscor_tools.store import open_store


def test_demo_syncs_every_sandbox_connector_and_exports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--scale", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    synced = {s["connector"]: s["status"] for s in report["syncs"]}
    assert synced["stripe"] == "succeeded"
    assert set(synced.values()) == {"succeeded"}
    store = open_store(out / "workspace.db")
    try:
        assert store.count("clients") > 0 and store.count("invoices") > 0
        assert store.count("invoice_lines") > 0 and store.count("payments") > 0
        counts = {e: c["rows"] for e, c in store.counts().items()}
    finally:
        store.close()
    manifest = json.loads((out / "bundle" / "manifest.json").read_text())
    assert manifest["policy"]["name"] == "portability"
    exported = {f["entity"]: f["rows"] for f in report["export"]["files"]}
    for entity, rows in exported.items():
        assert rows == counts[entity]

    again = CliRunner().invoke(cli, ["demo", "--out", str(out), "--scale", "0.3"])
    assert again.exit_code == 0, again.output
    assert "Bundle:" in again.output


def test_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("precious")
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == ExitCode.CONFIG
    assert (tmp_path / "mine.txt").read_text() == "precious"
