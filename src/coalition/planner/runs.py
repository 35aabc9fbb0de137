"""Plan runs: stored rows, one executor, fair scheduling, cancel and reuse.

* A :class:`PlanRun` row is small (what was asked, status, progress, a two-number summary) so
  lists stay cheap; the plan itself is a :class:`PlanRunResult` row fetched by run id.
* A run is keyed by (scenario id, revision, option, date, assumptions, seed, options): a
  completed run with the same key is *reused* instead of re-solved, and an identical run still
  queued or running is joined rather than duplicated.
* An :class:`Executor` runs the pure :func:`coalition.planner.service.plan_option` (picklable
  inputs): :class:`LocalExecutor` (a bounded thread pool; HiGHS releases the GIL while it
  solves) or :class:`DaskExecutor` (a ``distributed.Client``), chosen by
  ``Settings.executor`` (``COALITION_EXECUTOR=local`` or ``dask://tcp://host:8786``).
* :class:`Scheduler` starts queued runs oldest first, skipping a nation that already has
  ``Settings.plan_quota`` runs running (so one nation cannot hold every slot), shows each queued
  run its position, and cancels through the solver's ``should_stop``.

* A run has a ``kind``: ``plan`` (the planner) or a kind another package registers with
  :func:`register_task` (e.g. ``analysis``, :mod:`coalition.analysis.jobs`): the same rows,
  queue, quota, cancel and reuse, another pure task function and summary. The plan queries
  (:func:`list_runs`, the plans API) see plans only.

Each step uses its own short transaction; the request that queued a run committed it first.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    CursorResult,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from coalition.auth.schemas import HQ, Principal, Role
from coalition.auth.service import now
from coalition.errors import ConflictError, NotFoundError, PermissionDeniedError
from coalition.planner.executors import DaskExecutor, Executor, LocalExecutor, make_executor  # re-exported (__all__)
from coalition.store.db import Base, UtcDateTime, transaction

if TYPE_CHECKING:
    pass

log = logging.getLogger("coalition.planner.runs")

PROGRESS_EVERY_S = 0.5
CANCEL_POLL_S = 0.25
# A cancelled run's message says whether the solver stopped on the request or had finished
STOPPED_ON_CANCEL = "cancelled while solving: the solver stopped at its next check"
FINISHED_BEFORE_CANCEL = "cancelled: the solve had finished before the request reached it"
ACTIVE = ("queued", "running")


class PlanRun(Base):
    """One planner run: the request, status and progress (the plan is in PlanRunResult)."""

    __tablename__ = "planner_run"
    __table_args__ = (
        Index("ix_planner_run_kind_id", "kind", "id"),
        Index("ix_planner_run_kind_pinned_id", "kind", "pinned", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), nullable=False, default="plan", server_default="plan")
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenario.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    option: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[str | None] = mapped_column(String(10), nullable=True)
    seed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    assumptions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    assumptions_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    run_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    nation: Mapped[str] = mapped_column(String(3), nullable=False)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reused_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # a plan's name (marked as name_nation's, released to HQ) and pin: coalition.planner.naming
    name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    name_nation: Mapped[str | None] = mapped_column(String(3), nullable=True)
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    pinned_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pinned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PlanRunResult(Base):
    """The plan JSON of a finished run (``coalition plan --json`` shape), apart from the row."""

    __tablename__ = "planner_run_result"

    run_id: Mapped[int] = mapped_column(ForeignKey("planner_run.id"), primary_key=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


# ---------------------------------------------------------------------------------------------
# Keys (pure)
# ---------------------------------------------------------------------------------------------


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def assumptions_hash(assumptions: list[str] | tuple[str, ...]) -> str:
    return _digest(sorted(assumptions))


def run_key(
    *,
    scenario_id: int,
    revision: int,
    option: str,
    at: str | None,
    assumptions: list[str] | tuple[str, ...],
    seed: int,
    options: dict[str, Any],
    kind: str = "plan",
) -> str:
    """The identity of a run: same key, same plan (the solver is deterministic for a seed)."""
    key = {
        "scenario": scenario_id,
        "revision": revision,
        "option": option,
        "at": at,
        "assumptions": assumptions_hash(assumptions),
        "seed": seed,
        "options": options,
    }
    if kind != "plan":  # plans keep the keys they had before there were other kinds
        key["kind"] = kind
    return _digest(key)


# ---------------------------------------------------------------------------------------------
# Other kinds of run
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """Progress of a task that is not one solve: a fraction done and a message."""

    fraction: float
    message: str


@dataclass(frozen=True, slots=True)
class Task:
    """A kind of run: ``fn`` has :func:`solve_task`'s signature and returns a JSON dict
    (``_cancelled`` set when it stopped on the token); ``summarise`` gives the row's summary
    and message from that dict."""

    fn: Callable[..., dict[str, Any]]
    summarise: Callable[[dict[str, Any]], tuple[dict[str, Any], str]]


TASKS: dict[str, Task] = {}


def register_task(kind: str, task: Task) -> None:
    """Make runs of ``kind`` runnable by this process's :class:`Scheduler` (a run of a kind
    not registered here stays queued for a process that knows it)."""
    if kind == "plan":
        raise ValueError("'plan' is the planner's own kind")
    TASKS[kind] = task


# ---------------------------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------------------------


# a run claimed for starting: id, kind, scenario document, option, assumptions, at, options
_Pick = tuple[int, str, dict[str, Any], str, list[str], str | None, dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# The task (pure inputs, picklable; runs on a thread or a Dask worker)
# ---------------------------------------------------------------------------------------------


def solve_task(
    document: dict[str, Any],
    option: str,
    assumptions: list[str],
    at: str | None,
    options: dict[str, Any],
    cancel: Any = None,
    progress: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Plan one option of a scenario document; returns the plan JSON. ``cancel`` is a token
    with ``is_set()`` (a thread flag or a Dask Event), polled as the solver's ``should_stop``."""
    from coalition.conditions.engine import parse_assumptions
    from coalition.planner.engine import PlanHooks
    from coalition.planner.schemas import PlanOptions
    from coalition.planner.service import plan_option
    from coalition.scenario.schemas import Scenario

    scenario = Scenario.model_validate(document)
    last = [0.0, False]

    def should_stop() -> bool:
        if cancel is None or last[1]:
            return bool(last[1])
        t = time.monotonic()
        if t - last[0] >= CANCEL_POLL_S:
            last[0] = t
            last[1] = bool(cancel.is_set())
        return bool(last[1])

    outcome, _cday = plan_option(
        scenario,
        option,
        assumptions=parse_assumptions(list(assumptions)),
        at=date.fromisoformat(at) if at else None,
        options=PlanOptions(**options),
        hooks=PlanHooks(progress=progress, should_stop=should_stop),
    )
    plan = outcome.plan.model_dump(mode="json")
    plan["_cancelled"] = bool(last[1])
    return plan


# ---------------------------------------------------------------------------------------------
# Queries (principal + session)
# ---------------------------------------------------------------------------------------------


def summary(run: PlanRun, position: int | None = None, name: str | None = None) -> dict[str, Any]:
    """A run's row as JSON; ``name``: the reader's view of it (``naming.name_for``), never the stored one."""
    return {
        "id": run.id,
        "scenario_id": run.scenario_id,
        "revision": run.revision,
        "option": run.option,
        "at": run.at,
        "assumptions": run.assumptions,
        "seed": run.seed,
        "time_limit": (run.options or {}).get("time_limit"),
        "status": run.status,
        "progress": round(run.progress, 3),
        "message": run.message,
        "error": run.error,
        "requested_by": run.requested_by,
        "nation": run.nation,
        "queue_position": position,
        "cancel_requested": run.cancel_requested,
        "summary": run.summary,
        "reused_from": run.reused_from,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "name": name,
        "pinned": bool(run.pinned),
        "pinned_by": run.pinned_by if run.pinned else None,
        "pinned_at": run.pinned_at.isoformat() if run.pinned and run.pinned_at else None,
    }


def queue_position(session: Session, run: PlanRun) -> int | None:
    """1 + the queued runs that start before this one (older ones), or None when not queued."""
    if run.status != "queued":
        return None
    ahead = (
        session.scalar(select(func.count()).select_from(PlanRun).where(PlanRun.status == "queued", PlanRun.id < run.id))
        or 0
    )
    return int(ahead) + 1


def list_runs(
    session: Session,
    *,
    offset: int,
    limit: int,
    status: str | None = None,
    nation: str | None = None,
    option: str | None = None,
    kind: str = "plan",
    pinned: bool | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of runs of ``kind``, pinned first, then newest first, filtered and paged in SQL;
    never loads a plan. Plans are coalition-wide (every principal may list them; detail is
    redacted when read); no names (``naming.list_plans`` adds the reader's view of them)."""
    where = [PlanRun.kind == kind]
    if pinned is not None:
        where.append(PlanRun.pinned.is_(pinned))
    if status:
        where.append(PlanRun.status == status)
    if nation:
        where.append(PlanRun.nation == nation)
    if option:
        where.append(PlanRun.option == option)
    total = session.scalar(select(func.count()).select_from(PlanRun).where(*where)) or 0
    order = (PlanRun.pinned.desc(), PlanRun.id.desc())
    rows = session.scalars(select(PlanRun).where(*where).order_by(*order).offset(offset).limit(limit)).all()
    queued = [r for r in rows if r.status == "queued"]
    positions: dict[int, int] = {}
    if queued:
        older = list(
            session.scalars(
                select(PlanRun.id)
                .where(PlanRun.status == "queued", PlanRun.id <= max(r.id for r in queued))
                .order_by(PlanRun.id)
            )
        )
        positions = {rid: i + 1 for i, rid in enumerate(older)}
    return [summary(r, positions.get(r.id)) for r in rows], int(total)


def get_run(session: Session, run_id: int, kind: str = "plan") -> PlanRun:
    run = session.get(PlanRun, run_id)
    if run is None or run.kind != kind:
        raise NotFoundError(f"{'plan' if kind == 'plan' else kind + ' run'} '{run_id}' not found")
    return run


def run_of_kind(run: PlanRun | None, kind: str = "plan") -> PlanRun | None:
    """``run`` if it is of ``kind``, else None (a run of another kind is not found)."""
    return run if run is not None and run.kind == kind else None


def result_of(session: Session, run: PlanRun) -> dict[str, Any]:
    if run.status != "done":
        raise ConflictError(
            f"plan {run.id} is {run.status}; the result exists once it is done"
            + (f" ({run.error})" if run.error else "")
        )
    row = session.get(PlanRunResult, run.reused_from or run.id) or session.get(PlanRunResult, run.id)
    if row is None:
        raise NotFoundError(f"plan {run.id} has no stored result")
    return row.plan


def latest_done(
    session: Session,
    *,
    scenario_id: int | None = None,
    option: str | None = None,
    assumptions: list[str] | None = None,
    kind: str = "plan",
) -> PlanRun | None:
    query = select(PlanRun).where(PlanRun.status == "done", PlanRun.kind == kind)
    if scenario_id is not None:
        query = query.where(PlanRun.scenario_id == scenario_id)
    if option:
        query = query.where(PlanRun.option == option)
    if assumptions is not None:
        query = query.where(PlanRun.assumptions_hash == assumptions_hash(assumptions))
    return session.scalars(query.order_by(PlanRun.id.desc()).limit(1)).first()


# ---------------------------------------------------------------------------------------------
# Commands (the boundary commits)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What a queued run computes (the parts of its :func:`run_key`)."""

    scenario_id: int
    revision: int
    option: str
    at: str | None
    assumptions: list[str]
    seed: int
    options: dict[str, Any]
    kind: str = "plan"


def queue_run(session: Session, *, principal: Principal, request: RunRequest) -> tuple[PlanRun, bool]:
    """Queue a run, or return the completed/active run with the same key (``True``: reused)."""
    r = request
    key = run_key(
        scenario_id=r.scenario_id,
        revision=r.revision,
        option=r.option,
        at=r.at,
        assumptions=r.assumptions,
        seed=r.seed,
        options=r.options,
        kind=r.kind,
    )
    existing = session.scalars(
        select(PlanRun)
        .where(PlanRun.run_key == key, PlanRun.status.in_(("done", "queued", "running")))
        .order_by(PlanRun.id.desc())
        .limit(1)
    ).first()
    if existing is not None:
        return existing, True
    run = PlanRun(
        kind=r.kind,
        scenario_id=r.scenario_id,
        revision=r.revision,
        option=r.option,
        at=r.at,
        seed=r.seed,
        assumptions=list(r.assumptions),
        assumptions_hash=assumptions_hash(r.assumptions),
        options=r.options,
        run_key=key,
        status="queued",
        progress=0.0,
        message="queued",
        requested_by=principal.name,
        nation=principal.nation,
        cancel_requested=False,
        created_at=now(),
    )
    session.add(run)
    session.flush()
    return run, False


def cancel_run(session: Session, *, run_id: int, principal: Principal, kind: str = "plan") -> PlanRun:
    """Cancel a queued or running run: only its requester (or an HQ admin) may."""
    run = get_run(session, run_id, kind)
    if run.requested_by != principal.name and not (principal.nation == HQ and Role.ADMIN in principal.roles):
        raise PermissionDeniedError(
            f"plan {run_id} was requested by {run.requested_by}; only they (or an HQ admin) may cancel it"
        )
    if run.status not in ACTIVE:
        raise ConflictError(f"plan {run_id} is {run.status}; only a queued or running plan can be cancelled")
    if run.status == "queued":
        run.status, run.message, run.finished_at = "cancelled", "cancelled before it started", now()
    else:
        run.cancel_requested = True
        run.message = "cancelling: the solver stops at its next check"
    session.flush()
    return run


def fail_interrupted(session: Session) -> None:
    """Runs left running by a previous process died with it."""
    session.execute(
        update(PlanRun)
        .where(PlanRun.status == "running")
        .values(status="failed", error="interrupted: the service restarted", message="failed", finished_at=now())
    )


# ---------------------------------------------------------------------------------------------
# The scheduler
# ---------------------------------------------------------------------------------------------


class Scheduler:
    """Starts queued runs on an executor, fairly, and finishes them.

    ``dispatch()`` (called after a run is queued and whenever one ends) picks, oldest first, the
    queued runs whose nation has fewer than ``quota`` runs running, up to the executor's free
    slots; each is claimed with ``UPDATE … WHERE status = 'queued'`` so two processes never
    start the same run.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        executor: Executor,
        *,
        quota: int = 1,
        time_limit_max: float = 600.0,
        load_document: Callable[[Session, int, int], dict[str, Any]] | None = None,
    ) -> None:
        self.factory = factory
        self.executor = executor
        self.quota = max(1, quota)
        self.time_limit_max = time_limit_max
        self._lock = threading.Lock()
        self._tokens: dict[int, Any] = {}
        self._futures: dict[int, Future[Any]] = {}
        self._load = load_document or _load_document
        self._poller: threading.Thread | None = None
        self._closed = threading.Event()

    def dispatch(self) -> list[int]:
        started: list[int] = []
        with self._lock:
            with transaction(self.factory) as db:
                running = dict(
                    db.execute(
                        select(PlanRun.nation, func.count()).where(PlanRun.status == "running").group_by(PlanRun.nation)
                    ).all()
                )
                free = self.executor.slots - len(self._futures)
                if free <= 0:
                    return started
                queued = db.scalars(
                    select(PlanRun).where(PlanRun.status == "queued").order_by(PlanRun.id).limit(200)
                ).all()
                picks: list[_Pick] = []
                for run in queued:
                    if len(picks) >= free:
                        break
                    if running.get(run.nation, 0) >= self.quota:
                        continue
                    if run.kind != "plan" and run.kind not in TASKS:
                        continue  # for a process that knows this kind
                    # an UPDATE's result is a CursorResult (it has the rowcount)
                    claimed = cast(
                        CursorResult[Any],
                        db.execute(
                            update(PlanRun)
                            .where(PlanRun.id == run.id, PlanRun.status == "queued")
                            .values(status="running", started_at=now(), message="building the model")
                        ),
                    )
                    if claimed.rowcount != 1:
                        continue
                    running[run.nation] = running.get(run.nation, 0) + 1
                    limit = min(float((run.options or {}).get("time_limit", 20.0)), self.time_limit_max)
                    options = {**(run.options or {}), "time_limit": limit, "seed": run.seed}
                    picks.append(
                        (
                            run.id,
                            run.kind,
                            self._load(db, run.scenario_id, run.revision),
                            run.option,
                            list(run.assumptions),
                            run.at,
                            options,
                        )
                    )
            for run_id, kind, document, option, assumptions, at, options in picks:
                token = self.executor.cancel_token(run_id)
                self._tokens[run_id] = token
                progress = self._progress_fn(run_id, float(options["time_limit"]), token)
                local = isinstance(self.executor, LocalExecutor)
                fn = solve_task if kind == "plan" else TASKS[kind].fn
                fut = self.executor.submit(
                    fn, document, option, assumptions, at, options, token, progress if local else None
                )
                self._futures[run_id] = fut
                fut.add_done_callback(functools.partial(self._finish, run_id))
                started.append(run_id)
            if started and (self._poller is None or not self._poller.is_alive()):
                self._poller = threading.Thread(target=self._poll, name="plan-cancel-poll", daemon=True)
                self._poller.start()
        return started

    def _poll(self) -> None:
        """While runs are active here, carry stored cancel requests (from any process) to them."""
        while not self._closed.wait(CANCEL_POLL_S * 2):
            with self._lock:
                if not self._futures:
                    return
            try:
                self.poll_cancels()
            except Exception:  # noqa: BLE001 - a failed poll is retried
                log.exception("polling plan cancels")

    def _progress_fn(self, run_id: int, limit: float, token: Any) -> Callable[[Any], None]:
        started = time.monotonic()
        last = [0.0]

        def progress(p: Any) -> None:
            t = time.monotonic()
            if t - last[0] < PROGRESS_EVERY_S:
                return
            last[0] = t
            if isinstance(p, TaskProgress):
                frac, message = min(0.99, max(0.0, p.fraction)), p.message
            else:
                frac = min(0.95, 0.05 + (t - started) / max(limit, 0.1))
                gap = f"{p.gap * 100:.1f}%" if p.gap is not None else None
                # Plain words (the raw objective and bound mean nothing to a planner; the
                # KPIs of the plan come with the result).
                message = (
                    "solving: no plan found yet"
                    if p.incumbent is None
                    else f"solving: best plan so far is at most {gap} from the best possible"
                    if gap
                    else "solving: a plan is found; the solver is proving how good it is"
                )
            with transaction(self.factory) as db:
                run = db.get(PlanRun, run_id)
                if run is None:
                    return
                if run.cancel_requested:
                    token.set()
                else:
                    run.progress = frac
                    run.message = message

        return progress

    def request_cancel(self, run_id: int) -> None:
        """Signal a running run's solver now (the request's row update is the durable part)."""
        token = self._tokens.get(run_id)
        if token is not None:
            token.set()

    def poll_cancels(self) -> None:
        """Carry cancel requests stored by other processes to this process's runs."""
        if not self._tokens:
            return
        with transaction(self.factory) as db:
            ids = set(
                db.scalars(select(PlanRun.id).where(PlanRun.id.in_(list(self._tokens)), PlanRun.cancel_requested))
            )
        for rid in ids:
            self.request_cancel(rid)

    def _finish(self, run_id: int, fut: Future[Any]) -> None:
        try:
            with transaction(self.factory) as db:
                run = db.get(PlanRun, run_id)
                if run is None:
                    return
                try:
                    plan = fut.result()
                except Exception as exc:  # noqa: BLE001 - stored on the run, shown to the user
                    log.warning("plan run %s failed: %s", run_id, exc)
                    run.status, run.error, run.message = "failed", f"{type(exc).__name__}: {exc}", "failed"
                else:
                    cancelled = plan.pop("_cancelled", False)
                    if cancelled:  # the solver saw the request at a check and stopped there
                        run.status, run.message = "cancelled", STOPPED_ON_CANCEL
                    elif run.cancel_requested:  # asked for, but the solve finished first
                        run.status, run.message = "cancelled", FINISHED_BEFORE_CANCEL
                    elif run.kind != "plan":
                        db.add(PlanRunResult(run_id=run_id, plan=plan))
                        run.status, run.progress = "done", 1.0
                        run.summary, run.message = TASKS[run.kind].summarise(plan)
                    else:
                        db.add(PlanRunResult(run_id=run_id, plan=plan))
                        kpis = plan.get("kpis") or {}
                        status = (plan.get("solve") or {}).get("status")
                        run.status, run.progress = "done", 1.0
                        run.summary = {"status": status, "coverage_pct": kpis.get("coverage_pct")}
                        run.message = f"{status}: coverage {kpis.get('coverage_pct', 0):.1f}%"
                run.finished_at = now()
        except Exception:  # noqa: BLE001 - never kill the callback thread
            log.exception("finishing plan run %s", run_id)
        finally:
            with self._lock:
                self._futures.pop(run_id, None)
                self._tokens.pop(run_id, None)
            try:
                self.dispatch()
            except Exception:  # noqa: BLE001
                log.exception("dispatch after run %s", run_id)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until nothing runs in this process (tests, shutdown)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if not self._futures:
                    return True
            time.sleep(0.05)
        return False

    def shutdown(self) -> None:
        self._closed.set()
        for token in list(self._tokens.values()):
            with contextlib.suppress(Exception):
                token.set()
        self.executor.shutdown()


def _load_document(db: Session, scenario_id: int, revision: int) -> dict[str, Any]:
    from coalition.scenario.store import state_at

    return state_at(db, scenario_id=scenario_id, revision=revision).scenario.model_dump(mode="json")


__all__ = [
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "PlanRun",
    "PlanRunResult",
    "Scheduler",
    "Task",
    "TaskProgress",
    "cancel_run",
    "get_run",
    "latest_done",
    "list_runs",
    "make_executor",
    "queue_position",
    "queue_run",
    "register_task",
    "result_of",
    "run_of_kind",
    "run_key",
    "solve_task",
    "summary",
]
