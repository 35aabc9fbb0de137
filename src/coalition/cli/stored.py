"""Stored scenarios from the command line: the shared ``--scenario`` resolver, and the
``scenario push|pull|list|diff`` and ``pledge transition`` commands (thin; the edit service is
:mod:`coalition.scenario.store`, the same one the API calls).

``--scenario`` everywhere (status, gaps, plan, …) takes a folder, a file, or a stored scenario
``db:KEY`` / ``db:ID`` with an optional ``@REV``, read from ``COALITION_DATABASE_URL``.
Writes act as the user whose token is given (``--token`` or ``COALITION_TOKEN``): the same
principal, ownership rules and audit entry as through the API.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from coalition.cli import context
from coalition.errors import CoalitionError, InputError, NotFoundError, Problem
from coalition.scenario.schemas import PledgeState, Scenario

if TYPE_CHECKING:
    from rich.text import Text

    from coalition.scenario.revdiff import RevisionDiff

DB_REF = re.compile(r"^db:(?P<ref>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?:@(?P<rev>\d+))?$")
SCENARIO_HELP = (
    "scenario folder, .yaml/.json file, or a stored scenario db:KEY or db:ID "
    "(optionally @REV) from COALITION_DATABASE_URL (default: embedded paris-2026)"
)

DbOpt = Annotated[
    str | None,
    typer.Option("--database-url", help="SQLAlchemy URL (default: COALITION_DATABASE_URL)", show_default=False),
]
TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="your API token (default: COALITION_TOKEN); the change is made, checked and audited as that user",
        show_default=False,
    ),
]
ReadTokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="your API token (default: COALITION_TOKEN); you see what "
        "that user may see, and the read is audited as theirs",
        show_default=False,
    ),
]
ExpectOpt = Annotated[
    int | None,
    typer.Option(
        "--expect",
        help="the revision your change is based on; refused if the stored "
        "scenario has moved on (required for an import into a stored scenario)",
        show_default=False,
        min=1,
    ),
]


def parse_ref(text: str) -> tuple[str, int | None] | None:
    """``db:KEY[@REV]`` / ``db:ID[@REV]`` → (ref, revision); None when not a db: reference."""
    if not text.startswith("db:"):
        return None
    m = DB_REF.match(text)
    if m is None:
        raise InputError(
            [
                Problem(
                    f"'{text}' is not a stored-scenario reference",
                    field="--scenario",
                    hint="db:KEY or db:ID, optionally @REV, e.g. db:paris-2026@3",
                )
            ]
        )
    return m.group("ref"), int(m.group("rev")) if m.group("rev") else None


def _factory(database_url: str | None = None) -> Any:
    from coalition.store.db import make_engine, session_factory
    from coalition.store.migrate import upgrade

    settings = context.settings(**({"database_url": database_url} if database_url else {}))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return engine, session_factory(engine)


def load_stored(ref: str, revision: int | None, database_url: str | None = None) -> Scenario:
    from coalition.scenario import store
    from coalition.store.db import transaction

    engine, factory = _factory(database_url)
    try:
        with transaction(factory) as db:
            try:
                _sid, _rev, state = store.current_state(db, ref=ref, revision=revision)
            except NotFoundError as exc:
                raise InputError(
                    [Problem(str(exc), field="--scenario", hint="see `coalition scenario list`")]
                ) from None
            return state.scenario
    finally:
        engine.dispose()


def load_any(scenario: str | Path | None) -> Scenario:
    """The one resolver every command uses: embedded, folder/file, or ``db:`` reference."""
    from coalition.scenario.service import load_scenario

    if scenario is None:
        return load_scenario(None)
    parsed = parse_ref(str(scenario))
    if parsed is not None:
        return load_stored(*parsed)
    return load_scenario(Path(scenario))


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def _refuse(exc: Exception) -> NoReturn:
    err = Console(stderr=True)
    if isinstance(exc, InputError):
        from coalition.cli.scenario_cmds import fail

        fail(exc, err)
    err.print(f"[bold red]refused:[/] {exc}", highlight=False)
    raise typer.Exit(2)


def _principal(db: Any, token: str | None) -> Any:
    from coalition.auth import service as auth

    if not token and (secret := context.settings().token) is not None:
        token = secret.get_secret_value()
    if not token:
        raise InputError(
            [
                Problem(
                    "no token given",
                    field="--token",
                    hint="give --token or set COALITION_TOKEN (`coalition users token NAME` issues one)",
                )
            ]
        )
    try:
        return auth.authenticate(db, token=token)
    except auth.AuthenticationFailed as exc:
        raise InputError([Problem(f"token refused: {exc}", field="--token")]) from None


def _store_ref(ref: str) -> tuple[str, int | None]:
    parsed = parse_ref(ref if ref.startswith("db:") else f"db:{ref}")
    assert parsed is not None
    return parsed


def push(
    folder: Annotated[Path, typer.Argument(help="scenario folder or .yaml/.json file")],
    expect: ExpectOpt = None,
    token: TokenOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Store a scenario: a new one, or an import into the stored scenario with its id (every
    change checked against your nation's rights; refused as a whole otherwise)."""
    from coalition.scenario import store
    from coalition.scenario.service import load_scenario
    from coalition.store.db import transaction

    engine = None
    try:
        scenario = load_scenario(folder)
        engine, factory = _factory(database_url)
        with transaction(factory) as db:
            principal = _principal(db, token)
            row, revision, created = store.upload(
                db,
                scenario=scenario,
                principal=principal,
                expected_revision=expect,
                request_id=f"cli-{uuid.uuid4().hex[:16]}",
            )
            sid, key = row.id, row.key
    except (CoalitionError, InputError) as exc:
        _refuse(exc)
    finally:
        if engine is not None:
            engine.dispose()
    what = "stored as a new scenario" if created else "imported"
    typer.echo(f"{what}: db:{key} (id {sid}) revision {revision}")


def pull(
    ref: Annotated[str, typer.Argument(help="stored scenario: KEY or ID, optionally @REV")],
    folder: Annotated[Path, typer.Argument(help="new or empty folder (or a .yaml/.json file)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite the scenario files in a non-empty folder")] = False,
    database_url: DbOpt = None,
) -> None:
    """Write a stored scenario (any revision) as a folder or file, losslessly."""
    from coalition.scenario.service import save_scenario, save_scenario_file

    try:
        key, revision = _store_ref(ref)
        scenario = load_stored(key, revision, database_url)
        if folder.suffix.lower() in (".yaml", ".yml", ".json"):
            written = save_scenario_file(scenario, folder)
        else:
            if folder.is_dir() and any(folder.iterdir()) and not force:
                raise InputError(
                    [Problem("folder is not empty", file=str(folder), hint="give a new or empty folder, or --force")]
                )
            written = save_scenario(scenario, folder)
    except (CoalitionError, InputError) as exc:
        _refuse(exc)
    typer.echo(f"wrote {scenario.id} to {written}")


def list_cmd(database_url: DbOpt = None) -> None:
    """Stored scenarios: id, key, head revision, default."""
    from rich.table import Table

    from coalition.scenario import store
    from coalition.store.db import transaction

    engine, factory = _factory(database_url)
    try:
        with transaction(factory) as db:
            rows, total = store.list_stored(db, limit=500)
            table = Table(title=f"{total} stored scenario(s)")
            for col in ("id", "key", "name", "revision", "default", "origin"):
                table.add_column(col)
            for r in rows:
                table.add_row(str(r.id), r.key, r.name, str(r.head), "yes" if r.is_default else "", r.origin)
    finally:
        engine.dispose()
    Console().print(table)


def diff(
    ref: Annotated[str, typer.Argument(help="stored scenario: KEY or ID (or db:KEY)")],
    from_: Annotated[
        int | None,
        typer.Option(
            "--from", min=1, help="the revision compared from (default: the one before --to)", show_default=False
        ),
    ] = None,
    to: Annotated[
        int | None,
        typer.Option(
            "--to", min=1, help="the revision compared to (default: the head); either order", show_default=False
        ),
    ] = None,
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json", help="write the diff as JSON (the API's answer) to FILE ('-' for stdout)", show_default=False
        ),
    ] = None,
    token: ReadTokenOpt = None,
    database_url: DbOpt = None,
) -> None:
    """The changes between two revisions of a stored scenario, as the token's user may see
    them: the same service and releasability as the dashboard and the API."""

    from coalition.auth import service as auth
    from coalition.scenario import store
    from coalition.scenario.revdiff import chosen_range, diff_json, visible_diff
    from coalition.store.db import transaction

    engine = None
    try:
        key, revision = _store_ref(ref)
        if revision is not None:
            raise InputError(
                [Problem(f"'{ref}' names a revision", field="REF", hint="give the revisions with --from and --to")]
            )
        engine, factory = _factory(database_url)
        with transaction(factory) as db:
            principal = _principal(db, token)
            sid, head = store.scenario_header(db, ref=key)
            a, b = chosen_range(head, from_, to)
            result = visible_diff(db, principal, scenario_id=sid, from_revision=a, to_revision=b)
            auth.record_audit(
                db,
                principal=principal,
                request_id=f"cli-{uuid.uuid4().hex[:16]}",
                change=auth.AuditChange(
                    action="view", object_type="scenario", object_id=str(sid), note=f"CLI diff r{a}..r{b}"
                ),
            )
    except (CoalitionError, InputError) as exc:
        _refuse(exc)
    finally:
        if engine is not None:
            engine.dispose()
    if json_out is not None:
        from coalition.cli.gaps_cmds import write_json  # lazy: gaps_cmds imports this module

        try:
            write_json(json_out, diff_json(result), Console(stderr=True))
        except InputError as exc:
            _refuse(exc)
        if json_out == "-":
            return
    _print_diff(result)


def _print_diff(result: RevisionDiff) -> None:
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]scenario {result.scenario_id}[/]: revision {result.from_revision} → "
        f"{result.to_revision} (head {result.head}): {result.count} record(s) changed",
        highlight=False,
    )
    if result.partial:
        console.print("[yellow]Records you may not see are left out, whether or not they changed.[/]")
    if not result.tables:
        console.print("no changes you may see")
    for t in result.tables:
        table = Table(title=f"{t.table} ({len(t.records)})", header_style="bold", show_lines=True)
        for col in ("record", "change", "field", "before", "after"):
            table.add_column(col, overflow="fold")
        for r in t.records:
            for i, f in enumerate(r.fields or ()):
                table.add_row(
                    r.key if i == 0 else "", r.what if i == 0 else "", f.field, _cell(f.before), _cell(f.after)
                )
            if not r.fields:
                table.add_row(r.key, r.what, "", "", "")
        console.print(table)


def _cell(value: object) -> Text:
    from rich.text import Text

    return Text("—", style="dim") if value is None else Text(str(value))


pledge_app = typer.Typer(name="pledge", help="Pledges of stored scenarios: lifecycle steps.", no_args_is_help=True)


@pledge_app.command("transition")
def transition(
    pledge: Annotated[str, typer.Argument(help="pledge id, e.g. GBR-inf-1")],
    state: Annotated[PledgeState, typer.Argument(help="the next lifecycle state")],
    scenario: Annotated[
        str, typer.Option("--scenario", "-s", help="stored scenario db:KEY or db:ID (default: the default scenario)")
    ] = "",
    expect: ExpectOpt = None,
    note: Annotated[str, typer.Option("--note", help="why (kept in the revision and audit)")] = "",
    token: TokenOpt = None,
    database_url: DbOpt = None,
) -> None:
    """Move a pledge one lifecycle step, through the same service and rules as the API."""
    from coalition.scenario import store
    from coalition.scenario.rules import TransitionPledge
    from coalition.store.db import transaction

    engine = None
    try:
        ref: str | None = None
        if scenario:
            parsed = parse_ref(scenario)
            if parsed is None or parsed[1] is not None:
                raise InputError(
                    [
                        Problem(
                            f"'{scenario}' is not a stored scenario head",
                            field="--scenario",
                            hint="db:KEY or db:ID (no @REV: changes apply to the newest revision; use --expect)",
                        )
                    ]
                )
            ref = parsed[0]
        engine, factory = _factory(database_url)
        with transaction(factory) as db:
            principal = _principal(db, token)
            sid, _head = store.scenario_header(db, ref=ref)
            result = store.edit(
                db,
                sid,
                expect,
                TransitionPledge(pledge=pledge, to=state, note=note),
                principal,
                request_id=f"cli-{uuid.uuid4().hex[:16]}",
            )
    except (CoalitionError, InputError) as exc:
        _refuse(exc)
    finally:
        if engine is not None:
            engine.dispose()
    typer.echo(f"pledge {pledge} is {state.value}: scenario {sid} revision {result.revision}")


def register(app: typer.Typer) -> None:
    from coalition.cli.scenario_cmds import scenario_app

    scenario_app.command("push")(push)
    scenario_app.command("pull")(pull)
    scenario_app.command("list")(list_cmd)
    scenario_app.command("diff")(diff)
    app.add_typer(pledge_app, name="pledge")
