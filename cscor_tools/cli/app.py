"""The root `cscor` command: global options, and the one place errors become exit codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import click

from cscor_tools import logs
from cscor_tools._version import __version__
from cscor_tools.config import Config, load_config, workspace_location_problem
from cscor_tools.errors import CscorError, ExitCode


@dataclass
class AppContext:
    """What every command gets from the global options."""

    workspace: str | None
    config_path: str | None
    log_format: str
    debug: bool
    verbose: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


class CscorGroup(click.Group):
    """Turns our errors into a one-line message and a documented exit code, never a traceback.

    Every command runs inside ``invoke``, so this is the single place the mapping happens
    (the CLI tests drive the same path through click's CliRunner). Every command added also
    accepts the global options after its name (``cscor sync all --log-format json``).
    """

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        accept_global_options(cmd)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CscorError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as exc:
            debug = isinstance(ctx.obj, AppContext) and ctx.obj.debug
            if debug:
                raise
            click.secho(
                f"Internal error (a bug in cscor_tools): {type(exc).__name__}: {exc}\n"
                "Run again with --debug to see the traceback, and please report it.",
                fg="red",
                err=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))


def _workspace_location(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    problem = workspace_location_problem(value) if value is not None else None
    if problem:
        raise click.BadParameter(problem, ctx, param)
    return value


@click.group(cls=CscorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cscor")
@click.option(
    "--workspace",
    "-w",
    envvar="CSCOR_WORKSPACE",
    metavar="PATH|URL",
    callback=_workspace_location,
    help="Workspace store: a SQLite file (default ./workspace.db) or a postgresql:// URL. "
    "[env: CSCOR_WORKSPACE]",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Config file (default: ./cscor.toml when present).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "text", "json"]),
    default="auto",
    show_default=True,
    help="Log lines as text or JSON lines; auto is text on a terminal, JSON otherwise.",
)
@click.option("--verbose", "-v", is_flag=True, help="Log every request and page.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    workspace: str | None,
    config_path: str | None,
    log_format: str,
    verbose: bool,
    debug: bool,
) -> None:
    """cscor: sync, import and export Customerscor workspace data.

    \b
    Examples:
      cscor demo                          try everything offline, no keys needed
      cscor init                          create ./workspace.db
      STRIPE_API_KEY=rk_... cscor sync stripe
      cscor status
    """
    chosen = logs.configure(log_format, logging.DEBUG if verbose else logging.INFO)
    ctx.obj = AppContext(workspace, config_path, chosen, debug, verbose)
    # Read the config now: a broken file is reported before any work starts.
    ctx.obj.config  # noqa: B018


def _set_workspace(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        app(ctx).workspace = _workspace_location(ctx, param, value)


def _set_config(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        a = app(ctx)
        a.config_path, a._config = value, None
        a.config  # noqa: B018 - a broken file is reported before any work starts


def _set_log_format(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        a = app(ctx)
        a.log_format = logs.configure(value, logging.DEBUG if a.verbose else logging.INFO)


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        a = app(ctx)
        a.verbose = True
        logs.configure(a.log_format, logging.DEBUG)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        app(ctx).debug = True


def _global_options() -> list[click.Option]:
    """The root's options, as a command after its name accepts them: given there, they
    override what came before the command name (or from the environment)."""
    return [
        click.Option(["--workspace", "-w"], metavar="PATH|URL", expose_value=False,
                     callback=_set_workspace, help="Workspace store (global option)."),
        click.Option(["--config", "config_path"], type=click.Path(dir_okay=False),
                     metavar="FILE", expose_value=False, callback=_set_config,
                     help="Config file (global option)."),
        click.Option(["--log-format"], type=click.Choice(["auto", "text", "json"]),
                     expose_value=False, callback=_set_log_format,
                     help="Log lines as text or JSON lines (global option)."),
        click.Option(["--verbose", "-v"], is_flag=True, expose_value=False,
                     callback=_set_verbose, help="Log every request and page (global option)."),
        click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_debug,
                     help="Show tracebacks of internal errors (global option)."),
    ]


def accept_global_options(cmd: click.Command) -> None:
    """Let ``cmd`` (and, for a group, every command in it) take the global options too."""
    have = {opt for p in cmd.params for opt in p.opts}
    for option in _global_options():
        if not have & set(option.opts):
            cmd.params.append(option)
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            accept_global_options(sub)


def app(ctx: click.Context) -> AppContext:
    obj = ctx.find_object(AppContext)
    if obj is None:  # a command invoked on its own, outside the root group (tests)
        obj = AppContext(None, None, "text", False)
        ctx.obj = obj
    return obj


