"""FastAPI dependencies: the request's transaction, the principal, and the request context.

The request owns the transaction: :func:`get_db` opens it before the handler and commits after
the handler returns but *before* the response is sent (``Depends(..., scope="function")``), so a
failed commit is an error response, never a false success. Any exception rolls it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from coalition.auth import service as auth_service
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
    """A bearer token, or (for safe methods only) the dashboard's signed session cookie."""
    token = _bearer(request)
    if token is not None:
        return auth_service.authenticate(db, token=token)
    if request.method in ("GET", "HEAD") and "session" in request.scope:
        token_id = request.session.get("token_id")
        if isinstance(token_id, int):
            return auth_service.authenticate_token_id(db, token_id=token_id)
    raise AuthenticationFailed("no credentials; send 'Authorization: Bearer <token>'")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@dataclass
class Ctx:
    """What a handler needs: who, the transaction, the request id, the app's state."""

    principal: Principal
    db: Session
    request_id: str
    state: Any
    audited: list[int] = field(default_factory=list)

    def audit(self, action: str, object_type: str, object_id: str, *, before: Any = None,
              after: Any = None, note: str = "") -> None:
        entry = auth_service.record_audit(
            self.db, principal=self.principal, request_id=self.request_id, action=action,
            object_type=object_type, object_id=object_id, before=before, after=after, note=note,
        )
        self.audited.append(entry.id)


def get_ctx(request: Request) -> Iterator[Ctx]:
    """Transaction + principal in ONE dependency: each sync dependency costs a thread hop, and
    this one runs on every request (it is most of the framework overhead of GET /api/hubs)."""
    state = request.app.state.coalition
    with transaction(state.session_factory) as db:
        yield Ctx(
            principal=get_principal(request, db),
            db=db,
            request_id=request.scope.get("request_id", ""),
            state=state,
        )


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


def page(items: list[Any], paging: PageParams) -> Any:
    """The one list envelope: ``{"items", "total", "offset", "limit"}``.

    Returned as a ready JSONResponse: the items are already plain JSON values, and skipping
    FastAPI's response re-encoding is a large share of a list request's cost.
    """
    return JSONResponse({
        "items": items[paging.offset : paging.offset + paging.limit],
        "total": len(items),
        "offset": paging.offset,
        "limit": paging.limit,
    })
