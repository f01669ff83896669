"""The `cscor` command line: a thin layer over the library (see cscor_tools/__init__.py)."""

from __future__ import annotations

from cscor_tools.cli.app import cli
from cscor_tools.cli.core import connectors, init, schema, status
from cscor_tools.cli.demo import demo
from cscor_tools.cli.export import export
from cscor_tools.cli.imports import import_
from cscor_tools.cli.privacy import audit, keys, retention, subject
from cscor_tools.cli.sandbox import sandbox
from cscor_tools.cli.sync import run, sync
from cscor_tools.cli.workers import enqueue, jobs, worker

for command in (init, connectors, sync, run, status, schema, import_, export, sandbox, demo):
    cli.add_command(command)
for command in (subject, retention, audit, keys):  # privacy requests (cli/privacy.py)
    cli.add_command(command)
for command in (worker, enqueue, jobs):  # the job queue (cli/workers.py)
    cli.add_command(command)

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cscor")
