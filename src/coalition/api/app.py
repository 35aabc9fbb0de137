"""The application factory: ``create_app(settings)``.

Nothing is created at import time: the engine, the session factory, the scenario cache, the
background job runner and the session secret are made here from the :class:`Settings` handed in,
so tests build one app on SQLite and another on PostgreSQL side by side.
"""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from coalition import __version__
from coalition.api import errors
from coalition.api.auditbatch import AuditBatcher
from coalition.api.middleware import ServiceMiddleware
from coalition.api.offload import CpuPool, gaps_compute
from coalition.api.ratelimit import RateLimiter
from coalition.planner.executors import make_executor
from coalition.planner.runs import Scheduler
from coalition.scenario.store import ScenarioCache
from coalition.settings import Settings
from coalition.store.db import make_engine, session_factory, transaction
from coalition.store.migrate import upgrade

log = logging.getLogger("coalition.api")

DASHBOARD_STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"


@dataclass
class AppState:
    """Everything the handlers share, hung on ``app.state.coalition``."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    scenarios: ScenarioCache = field(default_factory=ScenarioCache)
    runs: Scheduler | None = None  # plan runs (coalition.planner.runs), made by create_app
    startup_problem: str | None = None
    cpu: CpuPool = field(default_factory=CpuPool)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(per_minute=0, burst=1))
    audit_writer: AuditBatcher | None = None  # made in create_app (needs the session factory)
    # How a gap picture missing from the cache is computed, for the API and the dashboard alike:
    # in the CPU pool within its time limit (coalition.api.offload.gaps_compute); made in
    # create_app, None computes on the request's thread.
    gaps_compute: Callable[..., bytes] | None = None


def _secret_key(settings: Settings) -> str:
    """The configured key, else one kept in the data folder (0600) so restarts keep sessions."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "session.key"
    try:
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
    except OSError:
        return secrets.token_urlsafe(48)


def prepare_database(state: AppState) -> None:
    """Migrate every package's branch and store the default scenario on first run."""
    from coalition.planner.runs import fail_interrupted
    from coalition.scenario import store
    from coalition.scenario.service import load_scenario

    upgrade(state.engine)
    with transaction(state.session_factory) as session:
        fail_interrupted(session)  # runs left running died with the previous process
    if state.runs is not None:  # runs still queued by a previous process start now
        state.runs.dispatch()
    try:
        with transaction(state.session_factory) as session:
            store.ensure_default(session, scenario=load_scenario(state.settings.scenario))
    except Exception as exc:  # noqa: BLE001 - the service still starts; /health reports it
        state.startup_problem = f"default scenario not loaded: {exc}"
        log.warning(state.startup_problem)


def settle_heap() -> None:
    """Before serving: collect once, then move every object alive (the imported modules, the
    migrated engine, the default scenario: ~120,000 objects) out of the collector's sight
    (``gc.freeze``). They live as long as the process, yet a full collection walked them all
    each time, 150-450 ms on the loaded benchmark machine, which made the pages' p95; after the
    freeze a full collection walks only what the requests made since (measured: 65-75 ms)."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *, migrate: bool = True, cookie_secure: bool = True) -> FastAPI:
    """Build the app. ``cookie_secure=False`` only for plain-HTTP access from another host
    (browsers already accept Secure cookies from http://127.0.0.1 and localhost)."""
    engine = make_engine(settings.database_url)
    state = AppState(
        settings=settings,
        engine=engine,
        session_factory=session_factory(engine),
        cpu=CpuPool(workers=settings.cpu_workers, time_limit_s=settings.cpu_time_limit_s),
        limiter=RateLimiter(per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst),
    )
    state.gaps_compute = gaps_compute(state.cpu)
    state.runs = Scheduler(
        state.session_factory,
        make_executor(settings.executor, settings.plan_workers),
        quota=settings.plan_quota,
        time_limit_max=settings.plan_time_limit_max,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settle_heap()
        yield
        if state.runs is not None:
            state.runs.shutdown()
        state.cpu.shutdown()
        if state.audit_writer is not None:
            state.audit_writer.shutdown()
        engine.dispose()

    app = FastAPI(
        title="coalition",
        version=__version__,
        description=(
            "Plan and run a multinational reassurance force. Every request carries "
            "`Authorization: Bearer <token>` (`coalition users token NAME`). Records are scoped "
            "by nation and releasability: out of scope is 404, a missing role is 403. Errors "
            'have one shape: `{"error": {status, code, message, problems, request_id}}`.'
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    state.audit_writer = AuditBatcher(state.session_factory)
    app.state.coalition = state
    if migrate:
        prepare_database(state)

    from coalition.api.routers import ROUTERS
    from coalition.dashboard import routes as dashboard
    from coalition.dashboard.security import LoginRequired

    errors.install(app, html=dashboard.html_error)
    errors.document_errors(app)
    app.add_exception_handler(LoginRequired, dashboard.login_redirect)
    dashboard.mount_pages()
    dashboard_router = dashboard.router

    from fastapi import Depends

    from coalition.api.contract import strict_query

    for router in ROUTERS:  # unknown query parameters are 422 on every API route
        app.include_router(router, dependencies=[Depends(strict_query)])
    app.include_router(dashboard_router)
    try:  # mounted before /static, which would otherwise shadow it
        import swagger_ui_bundle  # type: ignore[import-untyped]  # the package ships no py.typed

        app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    except (ImportError, AttributeError):  # /docs then shows no UI; /openapi.json still works
        pass
    app.mount("/static", StaticFiles(directory=DASHBOARD_STATIC), name="static")

    app.add_middleware(
        SessionMiddleware,
        secret_key=_secret_key(settings),
        session_cookie="coalition_session",
        max_age=settings.session_absolute_hours * 3600,  # the server-side row decides
        same_site="strict",
        https_only=cookie_secure,
    )
    app.add_middleware(ServiceMiddleware, max_body_bytes=settings.max_upload_bytes)
    return app


def create_worker_app() -> FastAPI:
    """Factory for ``uvicorn --workers N`` (``coalition serve --workers N``): each worker builds
    its own app from the environment; the parent process has already migrated the database."""
    settings = Settings.from_env()
    return create_app(settings, migrate=False, cookie_secure=not settings.insecure_cookies)
