"""``coalition serve`` and ``coalition users ...``: run the service, manage accounts and tokens.

Tokens are printed once, when issued; only their SHA-256 is stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from coalition.auth.schemas import Role
from coalition.cli import context

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from coalition.api.app import AppState

users_app = typer.Typer(help="Manage users and their API tokens.", no_args_is_help=True)

# Illustrative accounts for a first look (``coalition serve --demo-users``).
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("gbr-planner", "GBR", ("planner",)),
    ("fra-planner", "FRA", ("planner",)),
    ("gbr-depot", "GBR", ("depot-officer",)),
    ("pol-depot", "POL", ("depot-officer",)),
    ("hq-planner", "HQ", ("planner",)),
    ("hq-inspector", "HQ", ("inspector",)),
    ("hq-admin", "HQ", ("admin",)),
)


def _factory() -> sessionmaker[Session]:
    from coalition.store.db import make_engine, session_factory
    from coalition.store.migrate import upgrade

    settings = context.settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    return session_factory(engine)


def _issue(db: Session, name: str, days: int, label: str) -> str:
    from coalition.auth import service

    user = service.get_user(db, name=name)
    _row, secret = service.issue_token(db, user=user, days=days, label=label)
    return secret


@users_app.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="user name, e.g. alice")],
    nation: Annotated[str, typer.Option(help="ISO 3166 alpha-3 code (GBR, FRA, ...) or HQ")],
    role: Annotated[list[Role], typer.Option(help="role; repeat for several")],
    days: Annotated[int, typer.Option(help="validity of the first token, days")] = 90,
) -> None:
    """Create a user and print their first API token (shown once)."""
    from pydantic import ValidationError

    from coalition.auth import service
    from coalition.auth.schemas import UserCreate
    from coalition.errors import InputError, Problem
    from coalition.store.db import transaction

    try:
        data = UserCreate(name=name, nation=nation.upper(), roles=role)
    except ValidationError as exc:
        raise InputError(
            [
                Problem(
                    e["msg"], field=".".join(str(x) for x in e["loc"]), hint="nation: three capital letters (GBR) or HQ"
                )
                for e in exc.errors()
            ]
        ) from None
    with transaction(_factory()) as db:
        service.create_user(db, data=data)
        secret = _issue(db, name, days, "first token")
    typer.echo(f"created {name} ({data.nation}; {', '.join(r.value for r in role)})")
    typer.echo(f"token (shown once, keep it safe): {secret}")


@users_app.command("token")
def new_token(
    name: Annotated[str, typer.Argument(help="user name")],
    days: Annotated[int, typer.Option(help="validity, days (1-366)")] = 90,
    label: Annotated[str, typer.Option(help="what the token is for")] = "",
) -> None:
    """Issue a new API token for a user (shown once)."""
    from coalition.store.db import transaction

    with transaction(_factory()) as db:
        secret = _issue(db, name, days, label)
    typer.echo(secret)


@users_app.command("tokens")
def list_tokens(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """List a user's tokens (prefix, parent, roles, expiry, revocation; never the secrets)."""
    from coalition.auth import service
    from coalition.store.db import transaction

    with transaction(_factory()) as db:
        user = service.get_user(db, name=name)
        table = Table("id", "prefix", "label", "parent", "roles", "expires", "revoked")
        for t in service.list_tokens(db, user=user):
            table.add_row(
                str(t.id),
                t.prefix,
                t.label,
                str(t.parent_id or "-"),
                ", ".join(t.roles) if t.roles is not None else "(all)",
                t.expires_at.isoformat(timespec="seconds"),
                t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-",
            )
    Console().print(table)


@users_app.command("revoke")
def revoke_token(
    name: Annotated[str, typer.Argument(help="user name")],
    token_id: Annotated[int, typer.Argument(help="token id (see `coalition users tokens`)")],
) -> None:
    """Revoke a token and every token minted from it."""
    from coalition.auth import service
    from coalition.auth.tokens import descendants
    from coalition.store.db import transaction

    with transaction(_factory()) as db:
        user = service.get_user(db, name=name)
        service.revoke_token(db, user=user, token_id=token_id)
        below = descendants(db, token_id)
        system = service.system_principal("cli")
        service.record_audit(
            db,
            principal=system,
            request_id="cli",
            change=service.AuditChange(
                action="revoke-token",
                object_type="user",
                object_id=name,
                after={"token_id": token_id, "descendants": below},
            ),
        )
    typer.echo(f"revoked token {token_id} of {name}" + (f" and {len(below)} token(s) minted from it" if below else ""))


@users_app.command("list")
def list_users() -> None:
    """List users (never their tokens)."""
    from coalition.auth import service
    from coalition.store.db import transaction

    with transaction(_factory()) as db:
        rows, _ = service.list_users(db, limit=10_000)
        table = Table("name", "nation", "roles", "active")
        for u in rows:
            table.add_row(u.name, u.nation, ", ".join(u.roles), "yes" if u.active else "no")
    Console().print(table)


def ensure_demo_users(factory: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    """Create the illustrative users that do not exist yet; return (name, nation, roles, token)."""
    from sqlalchemy import select

    from coalition.auth import service
    from coalition.auth.models import User
    from coalition.auth.schemas import UserCreate
    from coalition.store.db import transaction

    out = []
    with transaction(factory) as db:
        for name, nation, roles in DEMO_USERS:
            if db.scalar(select(User.id).where(User.name == name)) is None:
                service.create_user(db, data=UserCreate(name=name, nation=nation, roles=[Role(r) for r in roles]))
            out.append(
                (name, nation, ", ".join(roles), _issue(db, name, 30, "demo token (coalition serve --demo-users)"))
            )
    return out


def ensure_demo_ledger(state: AppState) -> str:
    """Keys and the illustrative sample custody history when the ledger is empty (what
    ``coalition ledger init`` does), so the dashboard's ledger page has something to verify."""
    from pathlib import Path

    from coalition.inventory.safety import depot_safety
    from coalition.ledger import sample
    from coalition.ledger import service as ledger
    from coalition.ledger.keys import KeyRing
    from coalition.scenario.service import load_scenario
    from coalition.store.db import transaction

    keys = Path(state.settings.data_dir) / "keys"
    with transaction(state.session_factory) as db:
        if ledger.head(db)[0]:
            return "custody ledger already holds events"
        nations = set(sample.SAMPLE_NATIONS)
        scenario = load_scenario(state.settings.scenario)
        nations |= {n.code for n in scenario.nations}
        keyring = KeyRing.load(keys) if keys.is_dir() else KeyRing.generate(keys, sorted(nations))
        ledger.register_keys(db, keyring=keyring)
        res = sample.load_sample(db, keyring=keyring, safety=depot_safety(db, sample.ledger_network(scenario.depots)))
    return f"custody ledger: loaded the ILLUSTRATIVE sample history (events 1..{res.last_seq})"


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo_users: Annotated[
        bool, typer.Option("--demo-users", help="create illustrative users and print tokens")
    ] = False,
    insecure_cookies: Annotated[
        bool, typer.Option("--insecure-cookies", help="drop the Secure flag (plain HTTP from another host only)")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=32,
            help="worker processes (each runs one planner job at "
            "a time); set COALITION_SECRET_KEY or keep DATA_DIR shared",
        ),
    ] = 1,
) -> None:
    """Run the REST API and the dashboard (OpenAPI at /docs)."""
    import uvicorn

    from coalition.api import create_app

    settings = context.settings()
    if workers > 1:  # before anything starts: a setting the workers cannot get stops here
        from coalition.settings import export_to_workers

        export_to_workers(settings.with_overrides(insecure_cookies=True) if insecure_cookies else settings)
    app = create_app(settings, cookie_secure=not insecure_cookies)
    state = app.state.coalition
    console = Console()
    if state.startup_problem:
        console.print(f"[yellow]warning:[/] {state.startup_problem}")
    if demo_users:
        # Plain lines, never a table: a terminal-width table would cut the tokens short.
        typer.echo("Illustrative users (demo); new tokens, shown once:")
        for name, nation, roles, token in ensure_demo_users(state.session_factory):
            typer.echo(f"  {name:<13} {nation:<4} {roles:<14} {token}")
        console.print(ensure_demo_ledger(state))
    console.print(
        f"dashboard: http://{host}:{port}/   API docs: http://{host}:{port}/docs   "
        f"database: {state.engine.url.render_as_string(hide_password=True)}"
    )
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
        return
    # Several processes: the database is migrated above, in this process; each worker builds
    # its own app (engine, caches, job thread) from these settings, exported above into the
    # environment the workers inherit.
    state.engine.dispose()
    uvicorn.run(
        "coalition.api.app:create_worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
