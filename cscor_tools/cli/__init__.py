"""The `cscor` command line: a thin layer over the library (see cscor_tools/__init__.py)."""

from __future__ import annotations

import importlib

from cscor_tools.cli.app import cli
from cscor_tools.cli.core import connectors, init, schema, status
from cscor_tools.cli.sync import run, sync

for command in (init, connectors, sync, run, status, schema):
    cli.add_command(command)

# Command groups owned by other parts of the toolkit, added when their module is present.
for module_name, attribute in (
    ("cscor_tools.cli.sandbox", "sandbox"),
    ("cscor_tools.cli.demo", "demo"),
    ("cscor_tools.cli.export", "export"),
    ("cscor_tools.cli.imports", "import_"),
    ("cscor_tools.cli.privacy", "privacy"),
):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        continue
    cli.add_command(getattr(module, attribute))

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="cscor")
