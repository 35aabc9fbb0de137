"""The one place a CLI invocation gets its :class:`~coalition.settings.Settings`.

The root command's callback (:func:`begin_invocation`, registered in :mod:`coalition.cli.main`)
opens one settings slot per invocation. The environment is read into it once, on first use,
so every helper a command calls sees the same values; a command that needs none never reads
it, so a malformed ``COALITION_*`` variable does not break ``coalition validate``. A caller
embedding the CLI (or a test) can pass the settings in: ``CliRunner().invoke(app, args,
obj=settings)``. Outside an invocation (library use) :func:`settings` reads the environment.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

import typer

from coalition.settings import Settings


@dataclass
class _Slot:
    given: Settings | None  # passed in by the caller (ctx.obj)
    value: Settings | None = None  # read on first use


_current: ContextVar[_Slot | None] = ContextVar("coalition_cli_settings", default=None)


def begin_invocation(ctx: typer.Context) -> None:
    """Open this invocation's settings slot (the root callback); it closes with the command."""
    _current.set(_Slot(ctx.obj if isinstance(ctx.obj, Settings) else None))
    ctx.call_on_close(lambda: _current.set(None))


def settings(**overrides: object) -> Settings:
    """This invocation's settings, with ``overrides`` (e.g. ``database_url`` from
    ``--database-url``) applied on top and validated."""
    slot = _current.get()
    if slot is None:
        return Settings.from_env(**overrides)
    if slot.value is None:
        slot.value = slot.given if slot.given is not None else Settings.from_env()
    return slot.value.with_overrides(**overrides) if overrides else slot.value
