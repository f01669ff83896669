"""Every example in every command's --help works as written.

Each example is parsed through the whole command chain (root options, the command, a group's
subcommand), which is where an option that does not exist fails. Those that can run offline
then run, in the order the help shows them, against a local sandbox standing in for the
providers: a key in an example (``STRIPE_API_KEY=rk_live_...``) is replaced by the sandbox's.
"""

from __future__ import annotations

import re
import shlex
import warnings
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cscor_tools.cli import cli
from cscor_tools.sandbox import Sandbox
from cscor_tools.store import open_store

#: examples that are parsed but not run, and why
PARSE_ONLY = {
    "cscor demo": "tests/test_demo.py runs the demo",
    "cscor demo --format parquet --out /tmp/demo": "writes outside the test's folder",
    "cscor --workspace postgresql://user@127.0.0.1/cscor init": "names a server of its own",
    "cscor sandbox serve --port 8686 --latency-ms 50 --rate-limit 100": "serves until Ctrl-C",
    "cscor sandbox serve --seed 7 --scale 10 --fault-rate 0.05": "serves until Ctrl-C",
    # the job queue lives in PostgreSQL (tests/workers runs these against one)
    "cscor worker --queue postgresql://cscor@db/cscor --concurrency 2": "serves until Ctrl-C",
    "cscor enqueue sync stripe --workspace postgresql://cscor@db/acme": "names a server",
    "cscor enqueue sync stripe --workspace postgresql://cscor@db/acme --credential-env "
    "ACME_STRIPE_KEY --account acme": "names a server of its own",
    "cscor enqueue job nightly": "needs a PostgreSQL queue",
    "cscor enqueue export --workspace postgresql://cscor@db/acme --out s3://exports/acme/ "
    "--format parquet --partition-by source,month --overwrite": "names a server of its own",
    "cscor jobs --parked": "needs a PostgreSQL queue",
}
#: an example whose input the test makes up may reject rows of it (exit 7), never misparse
MAY_REJECT = {"cscor import invoices.xlsx.csv --entity invoices --map invoices.toml --dry-run"}


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[click.Command]:
    yield cmd
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _commands(sub, (*path, name))


def examples() -> list[str]:
    """Every `cscor …` line of every help text, continuation lines joined."""
    found: list[str] = []
    for cmd in _commands(cli):
        lines = re.sub(r" *\\\n\s*", " ", cmd.help or "").splitlines()
        for line in lines:
            # what follows two spaces or a # is a comment on the example
            text = re.split(r"\s{2,}|\s#", line.strip())[0]
            if re.match(r"^([A-Z_]+=\S+\s+)*cscor(\s|$)", text):
                found.append(text)
    return list(dict.fromkeys(found))


def split(example: str) -> tuple[list[str], str | None]:
    """The arguments after `cscor`, and the file stdout is redirected to (if any)."""
    words = shlex.split(example)
    while words and re.match(r"^[A-Z_]+=", words[0]):
        words.pop(0)  # an environment assignment: the test's environment stands in for it
    assert words[0] == "cscor"
    args, out = words[1:], None
    if ">" in args:
        at = args.index(">")
        args, out = args[:at], args[at + 1]
    return args, out


def parse(args: list[str]) -> None:
    """Build every context of the chain, as running it would, without running it."""
    with warnings.catch_warnings():
        # click 8.2 deprecates protected_args (9.0 keeps every remaining token in args)
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = cli.make_context("cscor", list(args))
        rest = [*ctx.protected_args, *ctx.args]
        group: click.Command = cli
        while isinstance(group, click.Group) and rest:
            name, cmd, rest = group.resolve_command(ctx, rest)
            assert cmd is not None and name is not None
            ctx = cmd.make_context(name, rest, parent=ctx)
            group, rest = cmd, [*ctx.protected_args, *ctx.args]


EXAMPLES = examples()


def test_the_examples_are_found() -> None:
    assert len(EXAMPLES) >= 20
    assert "cscor sync all --log-format json" in EXAMPLES
    assert all(e in EXAMPLES for e in PARSE_ONLY), "PARSE_ONLY names an example that is gone"


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_parses(example: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    args, _ = split(example)
    try:
        parse(args)
    except click.exceptions.Exit as done:  # an eager option (--show-policy) finished
        assert done.exit_code == 0
    except click.UsageError as exc:
        pytest.fail(f"{example}: {exc.format_message()}")


def _files(folder: Path) -> None:
    """The files the examples name, made up."""
    (folder / "customers.csv").write_text("email,name\na@example.com,A\nb@example.com,B\n")
    (folder / "invoices.xlsx.csv").write_text(
        "Rechnung;Kunde;Betrag;Währung;Datum\nR-1;a@example.com;12,50;eur;31.01.2026\n"
    )
    (folder / "invoices.toml").write_text(
        'entity = "invoices"\nmoney = "major"\ndecimal = ","\n'
        'date_formats = ["%d.%m.%Y"]\n'
        '[columns]\n"Rechnung" = "number"\n"Betrag" = "total"\n"Währung" = "currency"\n'
        '"Datum" = "created_at"\n'
    )
    (folder / "export-2026-01-01.zip").write_bytes(b"")  # replaced by a real bundle to run
    (folder / "cscor.toml").write_text('[jobs.nightly]\nconnectors = ["stripe"]\n')


def test_every_example_that_can_run_offline_runs(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _files(tmp_path)
    runner = CliRunner()
    with Sandbox(seed=5, scale=0.02) as sb:
        env = {
            "CSCOR_WORKSPACE": str(tmp_path / "workspace.db"),
            "STRIPE_API_KEY": sb.credentials("stripe"),
            "STRIPE_API_BASE": sb.base_url("stripe"),
            "RESEND_API_KEY": sb.credentials("resend"),
            "RESEND_API_BASE": sb.base_url("resend"),
            "CSCOR_STRIPE_RATE_LIMIT": "1000",
            "CSCOR_EXAMPLE_RESEND_RATE_LIMIT": "1000",
            "CSCOR_RESEND_RATE_LIMIT": "1000",
            "SLACK_BOT_TOKEN": sb.credentials("slack"),
            "SLACK_API_BASE": sb.base_url("slack"),
            "CSCOR_SLACK_RATE_LIMIT": "1000",
        }
        # the bundle the import example reads: this workspace's own export
        for setup in (["init"], ["sync", "stripe"]):
            assert runner.invoke(cli, setup, env=env).exit_code == 0
        (tmp_path / "export-2026-01-01.zip").unlink()
        made = runner.invoke(cli, ["export", "--out", "export-2026-01-01.zip"], env=env)
        assert made.exit_code == 0, made.output
        failures = []
        for example in EXAMPLES:
            if example in PARSE_ONLY:
                continue
            args, out = split(example)
            args = [a.replace("http://127.0.0.1:8686", sb.base_url("stripe")) for a in args]
            result = runner.invoke(cli, args, env=env)
            allowed = {0, 7} if example in MAY_REJECT else {0}
            if result.exit_code not in allowed:
                failures.append(f"{example} -> exit {result.exit_code}: {result.output[-400:]}")
            elif out is not None:
                (tmp_path / out).write_text(result.stdout)
    assert not failures, "\n".join(failures)
    # they did what they say
    assert (tmp_path / "shared" / "manifest.json").is_file()
    assert (tmp_path / "books-2024" / "manifest.json").is_file()
    assert (tmp_path / "mine.toml").read_text().startswith("[policy]")
    assert '"clients"' in (tmp_path / "workspace.schema.json").read_text()
    with open_store(tmp_path / "workspace.db") as store:
        kinds = [(r.kind, r.name) for r in store.runs(50)]
        assert store.count("clients") > 0
    assert kinds.count(("sync", "stripe")) >= 5 and ("sync", "example_resend") in kinds
    assert ("import", "customers.csv") in kinds
