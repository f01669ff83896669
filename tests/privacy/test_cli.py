"""The privacy commands: thin over the library, exit codes as documented, JSON that parses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.store import open_store
from tests.privacy.people import ANN, ANN_NAME, ANN_PHONE, seed_people
from tests.privacy.scan import assert_no_personal_data


def _workspace(tmp_path: Path) -> dict[str, str]:
    with open_store(tmp_path / "w.db") as store:
        seed_people(store)
    return {"CSCOR_WORKSPACE": str(tmp_path / "w.db")}


def test_export_erase_audit_from_the_command_line(tmp_path: Path) -> None:
    env, runner = _workspace(tmp_path), CliRunner()
    done = runner.invoke(cli, ["subject", "export", "--email", ANN, "--out",
                               str(tmp_path / "ann"), "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["counts"]["contacts"] == 3
    dry = runner.invoke(cli, ["subject", "erase", "--email", ANN, "--dry-run", "--json"],
                        env=env)
    assert dry.exit_code == 0 and json.loads(dry.output)["rows"] == 10
    done = runner.invoke(cli, ["subject", "erase", "--email", ANN], env=env)
    assert done.exit_code == 0 and "Erased 10 rows" in done.output
    fixed = runner.invoke(cli, ["subject", "correct", "--email", "joann.lee@example.com",
                                "--set", "name=Jo Ann Lee"], env=env)
    assert fixed.exit_code == 0 and "4 rows" in fixed.output, fixed.output
    kept = runner.invoke(cli, ["retention", "apply", "--dry-run", "--json"], env=env)
    assert kept.exit_code == 0 and json.loads(kept.output)["dry_run"] is True
    assert runner.invoke(cli, ["keys", "rotate"], env=env).exit_code == 0
    log = runner.invoke(cli, ["audit", "--json"], env=env)
    assert log.exit_code == 0
    actions = [json.loads(line)["action"] for line in log.output.splitlines()]
    assert actions == ["export", "subject.export", "subject.erase", "subject.correct",
                       "keys.rotate"]
    assert_no_personal_data(log.output, ANN, ANN_NAME, ANN_PHONE, "Jo Ann")
    table = runner.invoke(cli, ["audit"], env=env)
    assert table.exit_code == 0 and "subject.erase" in table.output


def test_mistakes_exit_with_their_codes(tmp_path: Path) -> None:
    env, runner = _workspace(tmp_path), CliRunner()
    assert runner.invoke(cli, ["subject", "erase", "--email", "not-an-address"],
                         env=env).exit_code == 2
    assert runner.invoke(cli, ["subject", "correct", "--email", ANN, "--set", "nope"],
                         env=env).exit_code == 2
    bad = runner.invoke(cli, ["subject", "correct", "--email", ANN, "--set", "nope=1"],
                        env=env)
    assert bad.exit_code == 7 and "no field 'nope'" in bad.output
    (tmp_path / "keep.toml").write_text('[retention.clients]\nkeep = "forever"\n')
    wrong = runner.invoke(cli, ["retention", "apply", "--policy", str(tmp_path / "keep.toml")],
                          env=env)
    assert wrong.exit_code == 10 and "keep.toml" in wrong.output
    nowhere = {"CSCOR_WORKSPACE": str(tmp_path / "none.db")}
    assert runner.invoke(cli, ["audit"], env=nowhere).exit_code == 8
    assert not (tmp_path / "none.db").exists()
    exists = runner.invoke(cli, ["subject", "export", "--email", ANN, "--out", str(tmp_path)],
                           env=env)
    assert exists.exit_code == 2
