"""coalition.api.deps: credentials parsing, the request context's audit entries (written at
once, or deferred for reads), and the list envelope."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from starlette.requests import Request

from coalition.api.deps import Ctx, PageParams, _bearer, _resolve_principal, page
from coalition.audit.models import AuditEntry
from coalition.auth.schemas import Principal, Role
from coalition.auth.service import AuthenticationFailed

WHO = Principal(user_id=None, name="gbr-x", nation="GBR", roles=frozenset({Role.PLANNER}))


def request(method: str = "GET", **headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": method, "path": "/api/x", "headers": raw, "query_string": b""})


def test_only_a_bearer_header_with_a_value_is_a_token() -> None:
    assert _bearer(request()) is None
    assert _bearer(request(authorization="Bearer  coa_abc ")) == "coa_abc"
    assert _bearer(request(authorization="bearer coa_abc")) == "coa_abc"  # the scheme is case-blind
    for bad in ("Basic dXNlcjpw", "Bearer", "Bearer   ", "coa_abc"):
        with pytest.raises(AuthenticationFailed, match="Bearer <token>"):
            _bearer(request(authorization=bad))


def test_without_credentials_or_session_the_request_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="no credentials"):
        _resolve_principal(request("POST"), db=None)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match="no credentials"):
        _resolve_principal(request("GET"), db=None)  # type: ignore[arg-type]  # no session middleware


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        yield s
    engine.dispose()


def _entries(db) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(AuditEntry).where(AuditEntry.request_id == "req-1").order_by(AuditEntry.seq)))


def test_writes_are_audited_at_once_and_reads_deferred_when_batched(db) -> None:  # type: ignore[no-untyped-def]
    ctx = Ctx(state=None, request_id="req-1", principal=WHO, db=db)
    ctx.audit("edit", "pledge", "GBR-p", after={"units": 2})
    assert len(ctx.audited) == 1 and [e.action for e in _entries(db)] == ["edit"]
    ctx.read_entries = []  # an API request: reads are written by the batched writer
    ctx.audit("view", "pledge", "GBR-p")
    ctx.audit_read("pledge", ["a", "b"])
    ctx.audit("transition", "pledge", "GBR-p")  # a write is never deferred
    assert [e.action for e in _entries(db)] == ["edit", "transition"]
    assert [d["change"].action for d in ctx.read_entries] == ["view", "list"]
    assert ctx.read_entries[1]["change"].object_id == "2 record(s)"
    ctx.audit_read("pledge", [])  # nothing restricted shown: no entry
    assert len(ctx.read_entries) == 2


def test_the_principal_given_is_used_without_a_request() -> None:
    ctx = Ctx(state=None, request_id="r", principal=WHO, db=None)
    assert ctx.principal is WHO and ctx.audited == [] and ctx.read_entries is None


def test_page_is_the_one_envelope_with_the_total_of_everything() -> None:
    items = list(range(7))
    body = json.loads(page(items, PageParams(offset=5, limit=10)).body)
    assert body == {"items": [5, 6], "total": 7, "offset": 5, "limit": 10}
    assert json.loads(page(items, PageParams(offset=9, limit=2)).body)["items"] == []
