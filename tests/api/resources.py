"""Generic resource tests, written once (NetBox style).

A resource's test class only declares data; :class:`ResourceTests` turns the declaration into
the standard checks: list (envelope, pagination), filter, get, unknown id, unauthenticated,
outside the nation's scope (404), write without the role (403, nothing written), write with the
role (then re-read and audit entry with the request id), sensitive reads audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from api.harness import Service


def assert_error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["status"] == status
    assert err["message"]
    assert isinstance(err["problems"], list)
    assert err["request_id"] == resp.headers["x-request-id"]
    return err


def audit_entries(svc: Service, **filters: str) -> list[dict[str, Any]]:
    resp = svc.client("hq-admin").get("/api/audit", params={"limit": 500, **filters})
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


@dataclass(frozen=True)
class Write:
    """One write the resource allows: who may, who may not (403), who is out of scope (404)."""

    method: str
    path: str
    body: dict[str, Any] | None
    allowed: str
    forbidden_role: str | None = None  # authenticated, in scope, lacks the role -> 403
    out_of_scope: str | None = None  # has the role, other nation -> 404
    expect_status: int = 200
    audit_type: str = ""
    audit_id: str = ""
    then_get: str | None = None  # re-read path after the write
    then_expect: dict[str, Any] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] | None = None


class ResourceTests:
    path: ClassVar[str]
    key: ClassVar[str] = "id"
    ident: ClassVar[str]
    reader: ClassVar[str] = "gbr-viewer"
    unknown_ident: ClassVar[str] = "no-such-id"
    hidden_ident: ClassVar[str | None] = None  # exists, but not visible to ``reader`` -> 404
    filters: ClassVar[dict[str, tuple[str, set[str]]]] = {}  # param -> (value, expected ids)
    sensitive: ClassVar[bool] = False
    writes: ClassVar[tuple[Write, ...]] = ()
    params: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        # Only the checks that apply to the declared data exist for a resource (no skip noise).
        super().__init_subclass__(**kwargs)
        if not cls.hidden_ident:
            cls.test_outside_scope_is_404 = None  # type: ignore[assignment]
        if not any(w.forbidden_role for w in cls.writes):
            cls.test_write_without_role_is_403_and_writes_nothing = None  # type: ignore[assignment]
        if not any(w.out_of_scope for w in cls.writes):
            cls.test_write_outside_scope_is_404 = None  # type: ignore[assignment]
        if not cls.writes:
            cls.test_write_is_applied_and_audited = None  # type: ignore[assignment]
        if not cls.filters:
            cls.test_filters = None  # type: ignore[assignment]

    # -- reads ---------------------------------------------------------------------------------
    def test_list(self, svc: Service) -> None:
        resp = svc.client(self.reader).get(self.path, params=self.params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert set(body) >= {"items", "total", "offset", "limit"}
        ids = {str(i[self.key]) for i in body["items"]}
        assert self.ident in ids
        if self.hidden_ident:
            assert self.hidden_ident not in ids
        assert body["total"] >= len(body["items"])

    def test_pagination(self, svc: Service) -> None:
        c = svc.client(self.reader)
        full = c.get(self.path, params={**self.params, "limit": 500}).json()
        one = c.get(self.path, params={**self.params, "limit": 1}).json()
        assert len(one["items"]) == min(1, full["total"])
        assert one["total"] == full["total"]
        past = c.get(self.path, params={**self.params, "offset": full["total"] + 5}).json()
        assert past["items"] == []
        assert_error(c.get(self.path, params={**self.params, "limit": 0}), 422)

    def test_filters(self, svc: Service) -> None:
        c = svc.client(self.reader)
        for param, (value, expected) in self.filters.items():
            body = c.get(self.path, params={**self.params, param: value, "limit": 500}).json()
            assert {str(i[self.key]) for i in body["items"]} == expected, (param, value)

    def test_get(self, svc: Service) -> None:
        resp = svc.client(self.reader).get(f"{self.path}/{self.ident}", params=self.params)
        assert resp.status_code == 200, resp.text
        assert str(resp.json()[self.key]) == self.ident

    def test_get_unknown_is_404(self, svc: Service) -> None:
        assert_error(svc.client(self.reader).get(f"{self.path}/{self.unknown_ident}",
                                                 params=self.params), 404)

    def test_unauthenticated_is_401(self, svc: Service) -> None:
        err = assert_error(svc.client(None).get(self.path, params=self.params), 401)
        assert "credentials" in err["message"] or "token" in err["message"]

    def test_outside_scope_is_404(self, svc: Service) -> None:
        if not self.hidden_ident:
            pytest.skip("every record of this resource is released to all coalition members")
        resp = svc.client(self.reader).get(f"{self.path}/{self.hidden_ident}",
                                           params=self.params)
        assert_error(resp, 404)

    def test_sensitive_read_is_audited(self, svc: Service) -> None:
        c = svc.client(self.reader)
        resp = c.get(f"{self.path}/{self.ident}", params=self.params)
        assert resp.status_code == 200
        entries = audit_entries(svc, request_id=resp.headers["x-request-id"])
        if self.sensitive:
            assert [(e["action"], e["object_id"], e["user_name"]) for e in entries] == [
                ("view", self.ident, self.reader)
            ]
        else:
            assert entries == []

    # -- writes --------------------------------------------------------------------------------
    def _send(self, svc: Service, user: str, w: Write) -> Any:
        c = svc.client(user)
        if w.files is not None:
            return c.request(w.method, w.path, files=w.files, params=w.body or None)
        return c.request(w.method, w.path, json=w.body)

    def test_write_without_role_is_403_and_writes_nothing(self, svc: Service) -> None:
        todo = [w for w in self.writes if w.forbidden_role]
        if not todo:
            pytest.skip("read-only resource")
        for w in todo:
            resp = self._send(svc, w.forbidden_role, w)
            assert_error(resp, 403)
            # nothing of the write is recorded; only the denied attempt, with who tried
            (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
            assert entry["action"] == "denied-403" and entry["user_name"] == w.forbidden_role

    def test_write_outside_scope_is_404(self, svc: Service) -> None:
        todo = [w for w in self.writes if w.out_of_scope]
        if not todo:
            pytest.skip("no nation-scoped write")
        for w in todo:
            resp = self._send(svc, w.out_of_scope, w)
            assert_error(resp, 404)
            entries = audit_entries(svc, request_id=resp.headers["x-request-id"])
            assert all(e["action"] == "denied-404" for e in entries)
            assert all(e["user_name"] == w.out_of_scope for e in entries)

    def test_write_is_applied_and_audited(self, svc: Service) -> None:
        if not self.writes:
            pytest.skip("read-only resource")
        for w in self.writes:
            resp = self._send(svc, w.allowed, w)
            assert resp.status_code == w.expect_status, resp.text
            entries = audit_entries(svc, request_id=resp.headers["x-request-id"])
            assert entries, "a write must leave an audit entry"
            assert entries[0]["user_name"] == w.allowed
            assert entries[0]["object_type"] == w.audit_type
            if w.audit_id:
                assert entries[0]["object_id"] == w.audit_id
            if w.then_get:
                again = svc.client(w.allowed).get(w.then_get).json()
                for k, v in w.then_expect.items():
                    assert again[k] == v, (k, again)
