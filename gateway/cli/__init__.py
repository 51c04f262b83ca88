"""The operator CLI (click): the only place that prints and chooses exit codes.

Exit codes, on a fixed scale: 0 success, 1 finished with refusals or warnings, 2 error, 128+N on signal N.
Each sub-module adds one group of commands; they are registered at the bottom of this file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import cached_property, wraps
from typing import Any, NoReturn, TypeVar

import click

from gateway import __version__
from gateway.config import ENV_VAR, Config, load
from gateway.errors import GatewayError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command gets: the configuration, loaded once, and the database opened on demand."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        return load(self.config_path)

    @cached_property
    def store(self) -> Any:
        """The repository over the configured database (schema checked against the code)."""
        from gateway.store.repo import Store

        return Store.open(self.config)


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """One clear line on stderr, then exit."""
    click.echo(f"gateway: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn the gateway's own errors into one line and exit code 2 (tracebacks are for bugs only)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GatewayError as exc:
            fail(str(exc))

    return wrapper  # type: ignore[return-value]


pass_ctx = click.make_pass_decorator(Context)


class IsoDate(click.ParamType):
    """A ``YYYY-MM-DD`` option, refused with a French message otherwise."""

    name = "AAAA-MM-JJ"

    def convert(self, value: Any, param: Any, ctx: Any) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} n'est pas une date AAAA-MM-JJ", param, ctx)


ISO_DATE = IsoDate()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config", "config_path", envvar=ENV_VAR, type=click.Path(dir_okay=False),
    help=f"Configuration file (TOML). Default: ${ENV_VAR}, else built-in defaults in the current folder.",
)
@click.version_option(__version__, prog_name="gateway")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """CSM declaration gateway: salary declarations and payslip requests in, acknowledgements out."""
    ctx.obj = Context(config_path)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="gateway")


def _register() -> None:
    import importlib

    for name in ("admin", "intake", "failed", "daemon", "validate", "rates", "jobs", "account"):
        try:
            module = importlib.import_module(f"gateway.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gateway.cli.{name}":
                raise
            continue
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()
