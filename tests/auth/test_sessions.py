"""Server-side dashboard sessions: sign-out ends them for every copy of the cookie; idle and
absolute timeouts come from settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
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


# --- coalition.auth.sessions directly, on a migrated database --------------------------------


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as s:
        yield s
    engine.dispose()


def _signed_in(db):  # type: ignore[no-untyped-def]
    from coalition.auth import service
    from coalition.auth.schemas import Role, UserCreate
    from coalition.auth.sessions import begin
    from coalition.auth.tokens import issue_token

    user = service.create_user(db, data=UserCreate(name="ann", nation="GBR", roles=[Role.VIEWER]))
    token, _ = issue_token(db, user=user, days=5)
    return token, begin(db, token_id=token.id)


LIMITS_MIN = 30


def _limits():  # type: ignore[no-untyped-def]
    from coalition.auth.sessions import SessionLimits

    return SessionLimits(idle=timedelta(minutes=LIMITS_MIN), absolute=timedelta(hours=8))


def test_a_live_session_resolves_to_its_tokens_principal_and_only_by_its_secret(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.service import AuthenticationFailed
    from coalition.auth.sessions import resolve
    from coalition.auth.tokens import hash_token

    token, secret = _signed_in(db)
    p = resolve(db, secret=secret, limits=_limits())
    assert (p.name, p.token_id) == ("ann", token.id)
    row = db.scalar(select(AuthSession).where(AuthSession.token_id == token.id))
    assert row.secret_hash == hash_token(secret) and secret not in row.secret_hash
    for bad, why in (("short", "no session"), ("x" * 101, "no session"), ("y" * 43, "unknown session")):
        with pytest.raises(AuthenticationFailed, match=why):
            resolve(db, secret=bad, limits=_limits())


def test_sign_out_ends_the_session_once(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.service import AuthenticationFailed
    from coalition.auth.sessions import end, resolve

    _token, secret = _signed_in(db)
    assert end(db, secret=secret) is True and end(db, secret=secret) is False
    with pytest.raises(AuthenticationFailed, match=r"session ended \(sign-out\)"):
        resolve(db, secret=secret, limits=_limits())


def test_idle_and_absolute_timeouts_end_a_session(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.service import AuthenticationFailed
    from coalition.auth.sessions import resolve
    from coalition.auth.tokens import now

    token, secret = _signed_in(db)
    row = db.scalar(select(AuthSession).where(AuthSession.token_id == token.id))
    row.last_seen_at = now() - timedelta(minutes=LIMITS_MIN + 1)
    db.flush()
    with pytest.raises(AuthenticationFailed, match="idle"):
        resolve(db, secret=secret, limits=_limits())
    row.last_seen_at = now()
    row.created_at = now() - timedelta(hours=9)
    db.flush()
    with pytest.raises(AuthenticationFailed, match="absolute timeout"):
        resolve(db, secret=secret, limits=_limits())


def test_use_moves_last_seen_on_and_a_revoked_token_ends_the_session(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.service import AuthenticationFailed
    from coalition.auth.sessions import TOUCH_EVERY, resolve
    from coalition.auth.tokens import aware, now

    token, secret = _signed_in(db)
    row = db.scalar(select(AuthSession).where(AuthSession.token_id == token.id))
    old = now() - TOUCH_EVERY - timedelta(seconds=1)
    row.last_seen_at = old
    db.flush()
    resolve(db, secret=secret, limits=_limits())
    assert aware(row.last_seen_at) > old
    token.revoked_at = now()
    db.flush()
    with pytest.raises(AuthenticationFailed, match="token revoked"):
        resolve(db, secret=secret, limits=_limits())


def test_limits_come_from_settings_with_defaults() -> None:
    from types import SimpleNamespace

    from coalition.auth.sessions import SessionLimits

    got = SessionLimits.of(SimpleNamespace(session_idle_minutes=5, session_absolute_hours=1))
    assert got == SessionLimits(idle=timedelta(minutes=5), absolute=timedelta(hours=1))
    assert SessionLimits.of(object()) == SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=8))
