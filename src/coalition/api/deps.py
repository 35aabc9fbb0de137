"""FastAPI dependencies: the request's transaction, the principal, and the request context.

The request owns the transaction: :func:`get_db` opens it before the handler and commits after
the handler returns but *before* the response is sent (``Depends(..., scope="function")``), so a
failed commit is an error response, never a false success. Any exception rolls it back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from coalition.auth import service as auth_service
from coalition.auth import sessions
from coalition.auth.schemas import Principal
from coalition.auth.service import AuthenticationFailed
from coalition.store.db import transaction


def get_db(request: Request) -> Iterator[Session]:
    with transaction(request.app.state.coalition.session_factory) as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("use 'Authorization: Bearer <token>'")
    return value.strip()


def get_principal(request: Request, db: Db) -> Principal:
    """A bearer token, or (for safe methods only) the dashboard's server-side session."""
    principal = _resolve_principal(request, db)
    request.scope[PRINCIPAL_KEY] = principal  # for the audit entry of a later denial
    return principal


PRINCIPAL_KEY = "coalition.principal"


def _resolve_principal(request: Request, db: Session) -> Principal:
    token = _bearer(request)
    if token is not None:
        return auth_service.authenticate(db, token=token)
    if request.method in ("GET", "HEAD") and "session" in request.scope:
        secret = request.session.get(sessions.COOKIE_KEY)
        if isinstance(secret, str):
            limits = sessions.SessionLimits.of(request.app.state.coalition.settings)
            return sessions.resolve(db, secret=secret, limits=limits)
    raise AuthenticationFailed("no credentials; send 'Authorization: Bearer <token>'")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


READ_ACTIONS = frozenset({"view", "list"})


class Ctx:
    """What a handler needs: who, the transaction, the request id, the app's state.

    Built either with everything given (dashboard pages, jobs) or lazily for API requests: the
    session opens and the token is checked on first use, i.e. inside the handler's worker
    thread, so a request costs one thread hop instead of three (dependency in, handler,
    dependency out).
    """

    def __init__(
        self,
        *,
        state: Any,
        request_id: str,
        principal: Principal | None = None,
        db: Session | None = None,
        request: Request | None = None,
    ) -> None:
        self.state = state
        self.request_id = request_id
        self._principal = principal
        self._db = db
        self._request = request
        self.audited: list[int] = []
        # Entries of reads, written by the batched writer after the handler (see get_ctx);
        # None: written at once into the request's transaction (dashboard pages, jobs).
        self.read_entries: list[dict[str, Any]] | None = None

    @property
    def db(self) -> Session:
        if self._db is None:
            self._db = self.state.session_factory()
        return self._db

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            assert self._request is not None
            self._principal = get_principal(self._request, self.db)
        return self._principal

    def audit(
        self, action: str, object_type: str, object_id: str, *, before: Any = None, after: Any = None, note: str = ""
    ) -> None:
        change = auth_service.AuditChange(action, object_type, object_id, before=before, after=after, note=note)
        if self.read_entries is not None and action in READ_ACTIONS:
            self.read_entries.append(dict(principal=self.principal, request_id=self.request_id, change=change))
            return
        entry = auth_service.record_audit(self.db, principal=self.principal, request_id=self.request_id, change=change)
        self.audited.append(entry.id)

    def audit_read(self, object_type: str, ids: list[Any], *, note: str = "") -> None:
        """One entry for a list (or page) that showed restricted records: which ones."""
        if not ids:
            return
        object_id, after = auth_service.read_list_entry(ids)
        self.audit("list", object_type, object_id, after=after, note=note)


async def get_ctx(request: Request) -> AsyncIterator[Ctx]:
    """The request's unit of work: commit after the handler, before the response is sent
    (``scope="function"``); roll back on any error. A request that wrote (every write leaves an
    audit entry) commits on a worker thread, since a durable commit waits for the disk; a
    read-only one ends its transaction inline."""
    state = request.app.state.coalition
    ctx = Ctx(state=state, request_id=request.scope.get("request_id", ""), request=request)
    ctx.read_entries = []
    try:
        yield ctx
    except BaseException:
        if ctx._db is not None:
            ctx._db.rollback()
            ctx._db.close()
        raise
    reads, ctx.read_entries = ctx.read_entries, None
    if ctx._db is not None:
        db = ctx._db
        try:
            if ctx.audited or db.new or db.dirty or db.deleted:
                for entry in reads:  # a request that writes keeps its reads' entries with it
                    auth_service.record_audit(db, **entry)
                reads = []
                await run_in_threadpool(db.commit)
            else:
                db.commit()
        finally:
            db.close()
    # Reads of restricted detail: their entries are committed (batched with other requests')
    # before the answer is sent; a failure here fails the request.
    await state.audit_writer.write(reads)


Context = Annotated[Ctx, Depends(get_ctx, scope="function")]


@dataclass(frozen=True)
class PageParams:
    offset: int
    limit: int


async def page_params(
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="items per page")] = 50,
) -> PageParams:
    return PageParams(offset=offset, limit=limit)


Paging = Annotated[PageParams, Depends(page_params)]


def page(items: list[Any], paging: PageParams) -> JSONResponse:
    """The one list envelope: ``{"items", "total", "offset", "limit"}``.

    Returned as a ready JSONResponse: the items are already plain JSON values, and skipping
    FastAPI's response re-encoding is a large share of a list request's cost.
    """
    return JSONResponse(
        {
            "items": items[paging.offset : paging.offset + paging.limit],
            "total": len(items),
            "offset": paging.offset,
            "limit": paging.limit,
        }
    )
