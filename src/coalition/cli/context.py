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
from pathlib import Path

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


def settings_in(data_dir: Path | None, *, database_url: str | None = None) -> Settings:
    """This invocation's settings for a command with ``--data-dir`` and ``--database-url``.

    A data dir given on the command line also moves the default database (``coalition.db`` in
    the data dir) with it, as :meth:`Settings.from_env` does for a ``data_dir`` override; a
    database URL that is not that default (set in the environment, by the caller, or by
    ``--database-url``) stays."""
    base = settings()
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
        if base.database_url == default_database_url(Path(base.data_dir)):
            overrides["database_url"] = default_database_url(data_dir)
    if database_url:
        overrides["database_url"] = database_url
    return settings(**overrides) if overrides else base


def default_database_url(data_dir: Path) -> str:
    """The database a data dir holds when no URL is set: SQLite ``coalition.db`` in it."""
    return f"sqlite:///{data_dir / 'coalition.db'}"
