"""The dashboard's unit of work: one transaction per page, the signed-in principal, the app's
shared state. The dashboard calls domain services and query functions with these; it imports
nothing from the API package (tests/test_layering.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from coalition.auth.schemas import Principal
from coalition.auth.service import AuditChange, read_list_entry, record_audit
from coalition.store.db import transaction


def get_db(request: Request) -> Iterator[Session]:
    """The page's transaction: committed before the response is sent, rolled back on error."""
    with transaction(request.app.state.coalition.session_factory) as session:
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]


class PageCtx:
    """Who, the transaction, the request id and the app's state, for one page."""

    def __init__(self, *, state: Any, request_id: str, principal: Principal, db: Session) -> None:
        self.state = state
        self.request_id = request_id
        self.principal = principal
        self.db = db

    def audit(self, action: str, object_type: str, object_id: str, **kw: Any) -> None:
        record_audit(
            self.db,
            principal=self.principal,
            request_id=self.request_id,
            change=AuditChange(action, object_type, object_id, **kw),
        )

    def audit_read(self, object_type: str, ids: list[Any], *, note: str = "dashboard") -> None:
        """One entry for a page that showed restricted records: which ones (in the page's
        transaction, so the page is not sent without it)."""
        if not ids:
            return
        object_id, after = read_list_entry(ids)
        self.audit("list", object_type, object_id, after=after, note=note)


__all__ = ["Db", "PageCtx", "get_db"]
