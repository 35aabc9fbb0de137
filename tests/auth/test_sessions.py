"""Server-side dashboard sessions: sign-out ends them for every copy of the cookie; idle and
absolute timeouts come from settings."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.harness import Service
from api.resources import assert_error
from coalition.auth.models import AuthSession


def _sign_in(svc: Service, user: str) -> TestClient:
    c = svc.client(None)
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = c.post("/login", data={"token": svc.tokens[user], "csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return c


def _copy(svc: Service, c: TestClient) -> TestClient:
    """An attacker's browser holding a copy of the victim's cookie jar."""
    thief = svc.client(None)
    for cookie in c.cookies.jar:
        thief.cookies.set(cookie.name, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


class TestSessions:
    def test_sign_out_replay(self, svc: Service) -> None:
        c = _sign_in(svc, "gbr-viewer")
        thief = _copy(svc, c)
        assert thief.get("/api/me").json()["name"] == "gbr-viewer"
        assert thief.get("/map", follow_redirects=False).status_code == 200
        page = c.get("/map")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        # the copied (still correctly signed) cookie is dead everywhere
        assert_error(thief.get("/api/me"), 401)
        assert thief.get("/map", follow_redirects=False).status_code == 303
        assert_error(c.get("/api/me"), 401)

    def test_idle_timeout_from_settings(self, svc: Service) -> None:
        c = _sign_in(svc, "gbr-viewer")
        assert c.get("/api/me").status_code == 200
        idle = svc.app.state.coalition.settings.session_idle_minutes
        with svc.db() as db:
            sid = db.scalars(select(AuthSession.id).order_by(AuthSession.id.desc())).first()
            row = db.get(AuthSession, sid)
            db.execute(update(AuthSession).where(AuthSession.id == sid).values(
                last_seen_at=row.last_seen_at - timedelta(minutes=idle, seconds=1)))
        err = assert_error(c.get("/api/me"), 401)
        assert "idle" in err["message"]

    def test_absolute_timeout_from_settings(self, svc: Service) -> None:
        c = _sign_in(svc, "gbr-viewer")
        hours = svc.app.state.coalition.settings.session_absolute_hours
        with svc.db() as db:
            sid = db.scalars(select(AuthSession.id).order_by(AuthSession.id.desc())).first()
            row = db.get(AuthSession, sid)
            db.execute(update(AuthSession).where(AuthSession.id == sid).values(
                created_at=row.created_at - timedelta(hours=hours, seconds=1)))
        err = assert_error(c.get("/api/me"), 401)
        assert "expired" in err["message"]

    def test_failed_sign_in_is_audited(self, svc: Service) -> None:
        from api.resources import audit_entries

        c = svc.client(None)
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        resp = c.post("/login", data={"token": "coa_" + "B" * 43, "csrf": csrf})
        assert resp.status_code == 401
        rid = resp.headers["x-request-id"]
        (entry,) = audit_entries(svc, request_id=rid)
        assert entry["action"] == "sign-in-failed" and entry["user_name"] == "(anonymous)"


class TestDashboardTokens:
    def test_list_and_revoke_own_token_with_its_children(self, svc: Service) -> None:
        from coalition.auth import service

        with svc.db() as db:
            user = service.get_user(db, name="gbr-viewer")
            row, secret = service.issue_token(db, user=user, days=3, label="spare")
            spare_id = row.id
        child = svc.client(None).post("/api/users/gbr-viewer/tokens", json={"days": 1},
                                      headers={"Authorization": f"Bearer {secret}"}).json()
        c = _sign_in(svc, "gbr-viewer")
        page = c.get("/tokens")
        assert page.status_code == 200 and "spare" in page.text and secret not in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert c.post(f"/tokens/{spare_id}/revoke", data={"csrf": "forged"},
                      headers={"accept": "text/html"}).status_code == 403
        resp = c.post(f"/tokens/{spare_id}/revoke", data={"csrf": csrf}, follow_redirects=False)
        assert resp.status_code == 303
        for s in (secret, child["token"]):
            assert_error(svc.client(None).get("/api/me", headers={"Authorization": f"Bearer {s}"}), 401)
        # another user's token is not found (and stays valid)
        with svc.db() as db:
            theirs = service.list_tokens(db, user=service.get_user(db, name="gbr-planner"))[0].id
        other = c.post(f"/tokens/{theirs}/revoke", data={"csrf": csrf},
                       headers={"accept": "text/html"})
        assert other.status_code == 404
        assert svc.client("gbr-planner").get("/api/me").status_code == 200
