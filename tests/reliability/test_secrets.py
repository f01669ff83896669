"""Secrets and exposure: sentinel credentials leave no trace anywhere we write; workspaces,
bundles and rejects files are owner-only; no command takes a credential as an argument."""

from __future__ import annotations

import stat
from pathlib import Path

import click

from benchmarks.reliability import Locations, secrets_scan
from cscor_tools.cli import cli
from cscor_tools.export import export_bundle
from cscor_tools.imports import import_file
from cscor_tools.store import open_store
from tests.reliability.conftest import show

SECRET_WORDS = ("key", "token", "secret", "password", "credential")


def test_sentinel_credentials_appear_nowhere(locs: Locations, tmp_path: Path) -> None:
    """Every connector, a refused sentinel key then an accepted one (a sandbox that accepts
    only sentinels), an export and an import with rejects: every log line, message, table
    row and file written, and the repository's cassettes, scanned."""
    work = tmp_path / "work"
    work.mkdir()
    figure = secrets_scan(locs, work)
    show({"files": figure.files, "rows": figure.rows, "lines": figure.lines,
          "hits": len(figure.hits)})
    assert figure.files >= 10 and figure.rows > 100 and figure.lines > 100
    assert figure.hits == []


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_workspaces_bundles_and_rejects_are_owner_only(tmp_path: Path) -> None:
    workspace = tmp_path / "w.db"
    bad = tmp_path / "clients.csv"
    bad.write_text("email,name\nnot-an-address,Ann\nbob@example.com,Bob\n")
    with open_store(workspace) as store:
        result = import_file(bad, store=store)
    rejects = Path(result.files[0].rejects_path or "")
    export_bundle(str(workspace), tmp_path / "bundle")
    export_bundle(str(workspace), tmp_path / "bundle.zip", zip=True)
    found = {"workspace": _mode(workspace), "rejects": _mode(rejects),
             "bundle": _mode(tmp_path / "bundle"), "zip": _mode(tmp_path / "bundle.zip")}
    found.update({f"bundle/{p.name}": _mode(p) for p in (tmp_path / "bundle").iterdir()})
    show(found)
    assert not [k for k, m in found.items() if m & 0o077], found


def _commands(group: click.Group, prefix: str = "cscor") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in group.commands.items():
        out.append((f"{prefix} {name}", cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix} {name}")
    return out


def test_no_command_accepts_a_credential_as_an_argument() -> None:
    # `cscor sandbox serve --stripe-key …` sets the fake key the local sandbox accepts (its
    # help prefers the environment): not a provider's credential, so not counted
    commands = [(p, c) for p, c in [("cscor", cli), *_commands(cli)]
                if not p.startswith("cscor sandbox")]
    offered = [f"{path} {opt}" for path, cmd in commands for p in cmd.params
               for opt in [*p.opts, str(p.name)]
               if any(w in opt.lower() for w in SECRET_WORDS)
               and "env" not in opt.lower()]  # naming the variable that holds one is fine
    show({"commands": len(commands), "credential options": offered})
    assert len(commands) > 10 and offered == []
