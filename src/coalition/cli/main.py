"""The ``coalition`` command line (Typer + Rich).

Commands are thin: they parse options, call services or pure logic, and render. Each command
module exposes ``register(app)``; this file only assembles them and turns the project's own
errors into clean messages (exit 2 for bad input) instead of tracebacks.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from coalition.cli import (
    analyse_cmds,
    audit_cmds,
    context,
    depots_cmds,
    gaps_cmds,
    ledger_cmds,
    plan_cmds,
    scenario_cmds,
    serve_cmds,
    sign_cmds,
    stored,
    sustain_cmds,
    witness_cmds,
)
from coalition.errors import CoalitionError, InputError

app = typer.Typer(
    name="coalition",
    help="Plan and run a multinational reassurance force.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(context.begin_invocation)  # Settings: read once per invocation (coalition.cli.context)


@app.command()
def version() -> None:
    """Print the version of coalition."""
    from coalition import __version__

    typer.echo(__version__)


COMMAND_MODULES = (
    scenario_cmds,
    gaps_cmds,
    plan_cmds,
    sustain_cmds,
    analyse_cmds,
    depots_cmds,
    ledger_cmds,
    sign_cmds,
    witness_cmds,
    serve_cmds,
    stored,
    audit_cmds,
)
for module in COMMAND_MODULES:
    module.register(app)


def run() -> None:
    """Console-script entry point."""
    err = Console(stderr=True)
    try:
        app()
    except InputError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except CoalitionError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except Exception as exc:  # the database said no (locked, unreachable): a message, not a traceback
        from sqlalchemy.exc import DBAPIError

        if not isinstance(exc, DBAPIError):
            raise
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else ""
        hint = " (another process holds the write lock; try again)" if "locked" in first else ""
        err.print(f"[bold red]error:[/] database: {first}{hint}", highlight=False, markup=True)
        sys.exit(1)


if __name__ == "__main__":
    run()
