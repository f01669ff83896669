"""`cscor export` through click's CliRunner on the real root command."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.errors import ExitCode
from cscor_tools.store import open_store
from tests.export.sample import seed


@pytest.fixture
def workspace(tmp_path: Path) -> str:
    location = str(tmp_path / "workspace.db")
    with open_store(location) as s:
        seed(s)
    return location


def run(workspace: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--workspace", workspace, "export", *args])
    return result.exit_code, result.stdout, result.stderr


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.stdout and "cscor export --format parquet" in result.stdout
    for option in ("--format", "--out", "--policy", "--entities", "--since", "--until",
                   "--include-deleted", "--zip", "--overwrite"):
        assert option in result.stdout


def test_export_prints_a_summary(workspace: str, tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    code, stdout, _ = run(workspace, "--format", "csv", "--out", str(out), "--policy",
                          "accounting")
    assert code == 0, stdout
    assert "Exported" in stdout and "'accounting'" in stdout and str(out) in stdout
    assert "invoices.csv" in stdout and "fingerprint" in stdout
    assert (out / "manifest.json").is_file()


def test_json_summary_and_zip_from_the_suffix(workspace: str, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    code, stdout, _ = run(workspace, "--format", "parquet", "--policy", "pseudonymized",
                          "--entities", "clients,invoices", "--since", "2024-01-01",
                          "--include-deleted", "--out", str(out), "--json")
    assert code == 0, stdout
    summary = json.loads(stdout)
    assert summary["zip"] is True and summary["policy"] == "pseudonymized"
    assert [f["entity"] for f in summary["files"]] == ["clients", "invoices"]
    assert zipfile.is_zipfile(out)


def test_errors_map_to_exit_codes(workspace: str, tmp_path: Path) -> None:
    out = tmp_path / "b"
    assert run(workspace, "--out", str(out))[0] == 0
    code, _, stderr = run(workspace, "--out", str(out))
    assert code == ExitCode.USAGE and "--overwrite" in stderr
    assert run(workspace, "--out", str(out), "--overwrite")[0] == 0
    code, _, stderr = run(workspace, "--out", str(tmp_path / "c"), "--policy", "accounting",
                          "--entities", "comments")
    assert code == ExitCode.POLICY and "does not let comments out" in stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[fields]\n"clients.emial" = "drop"\n', encoding="utf-8")
    code, _, stderr = run(workspace, "--out", str(tmp_path / "d"), "--policy", str(bad))
    assert code == ExitCode.POLICY and "bad.toml" in stderr and "emial" in stderr
    code, _, stderr = run(workspace, "--out", str(tmp_path / "e"), "--since", "soon")
    assert code == ExitCode.USAGE and "ISO date" in stderr
    assert not any((tmp_path / n).exists() for n in "cde")


def test_show_and_list_policies(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli, ["export", "--list-policies"])
    assert listed.exit_code == 0
    assert all(n in listed.stdout for n in ("portability", "pseudonymized", "accounting"))
    shown = runner.invoke(cli, ["export", "--show-policy", "pseudonymized"])
    assert shown.exit_code == 0 and shown.stdout.startswith("[policy]")
    custom = tmp_path / "mine.toml"
    custom.write_text(shown.stdout.replace('name = "pseudonymized"', 'name = "mine"'),
                      encoding="utf-8")
    checked = runner.invoke(cli, ["export", "--show-policy", str(custom)])
    assert checked.exit_code == 0, checked.output
    resolved = json.loads(checked.stdout)
    assert resolved["name"] == "mine" and resolved["fields"]["clients"]["email"] == "hash"
    assert resolved["fields"]["invoices"]["hosted_invoice_url"] == "drop"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_two_zip_exports_have_the_same_sha256(workspace: str, tmp_path: Path, fmt: str) -> None:
    digests = []
    for name in ("a.zip", "b.zip"):
        code, stdout, _ = run(workspace, "--format", fmt, "--zip", "--out", str(tmp_path / name))
        assert code == 0, stdout
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
    # dated by its data: the newest synced_at exported, not the clock
    assert manifest["data_as_of"] == "2024-06-01T12:00:00.000000Z"
    assert manifest["generated_at"] is None


def test_timestamp_is_the_only_clock_and_only_when_asked(workspace: str, tmp_path: Path) -> None:
    before = datetime.now(UTC)
    code, stdout, _ = run(workspace, "--timestamp", "--out", str(tmp_path / "t"))
    assert code == 0, stdout
    stamped = json.loads((tmp_path / "t" / "manifest.json").read_bytes())
    assert before <= datetime.fromisoformat(stamped["generated_at"]) <= datetime.now(UTC)
    code, _, _ = run(workspace, "--out", str(tmp_path / "u"))
    plain = json.loads((tmp_path / "u" / "manifest.json").read_bytes())
    assert {k: v for k, v in stamped.items() if k != "generated_at"} == {
        k: v for k, v in plain.items() if k != "generated_at"
    }


def test_no_protect_formulas_writes_text_as_it_is(
    workspace: str, tmp_path: Path
) -> None:
    code, stdout, _ = run(workspace, "--format", "csv", "--no-protect-formulas",
                          "--out", str(tmp_path / "raw"))
    assert code == 0, stdout
    code, _, _ = run(workspace, "--format", "csv", "--out", str(tmp_path / "safe"))
    raw = (tmp_path / "raw" / "clients.csv").read_text(encoding="utf-8")
    safe = (tmp_path / "safe" / "clients.csv").read_text(encoding="utf-8")
    assert ",+1 (555) 010-0000," in raw and ",'+1 (555) 010-0000," in safe
    manifests = [json.loads((tmp_path / n / "manifest.json").read_bytes())
                 for n in ("raw", "safe")]
    assert [m["formulas_protected"] for m in manifests] == [False, True]


def test_a_named_job_runs_its_syncs_then_its_export(tmp_path: Path) -> None:
    from cscor_tools.sandbox import Sandbox

    with Sandbox(seed=5, scale=0.02) as sb:
        (tmp_path / "cscor.toml").write_text(
            '[jobs.nightly]\nconnectors = ["stripe"]\n'
            f'[jobs.nightly.export]\nout = "{tmp_path / "nightly.zip"}"\nzip = true\n'
            'format = "csv"\npolicy = "accounting"\n')
        env = {"CSCOR_WORKSPACE": str(tmp_path / "w.db"),
               "STRIPE_API_KEY": sb.credentials("stripe"),
               "STRIPE_API_BASE": sb.base_url("stripe")}
        args = ["--config", str(tmp_path / "cscor.toml"), "run", "nightly", "--json"]
        done = CliRunner().invoke(cli, args, env=env)
        assert done.exit_code == 0, done.output
        out = json.loads(done.stdout)
        assert out["syncs"][0]["status"] == "succeeded"
        assert out["export"]["policy"] == "accounting" and out["export"]["zip"] is True
        with zipfile.ZipFile(tmp_path / "nightly.zip") as zf:
            assert "invoices.csv" in zf.namelist()
        # a second run has a bundle in its way: the export is refused, the syncs ran
        again = CliRunner().invoke(cli, args[:-1], env=env)
        assert again.exit_code == 7 and "--overwrite" in again.output
        # a sync that fails: no export is written
        env["STRIPE_API_KEY"] = "sk_test_FAKE_wrong"
        (tmp_path / "nightly.zip").unlink()
        failed = CliRunner().invoke(cli, args[:-1], env=env)
        assert failed.exit_code != 0 and "export skipped" in failed.output
        assert not (tmp_path / "nightly.zip").exists()
