"""Tokens: random, shown once, stored hashed, expiring, revocable; forged ones refused."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from api.harness import Service
from api.resources import assert_error
from coalition.auth import service
from coalition.auth.models import ApiToken, User
from coalition.auth.schemas import Principal, Role, UserCreate
from coalition.errors import InputError, NotFoundError


class TestTokens:
    def test_stored_hashed_only(self, svc: Service) -> None:
        secret = svc.tokens["gbr-viewer"]
        with svc.db() as db:
            rows = list(db.scalars(select(ApiToken)))
            digest = hashlib.sha256(secret.encode()).hexdigest()
            assert any(r.token_hash == digest for r in rows)
            assert all(secret not in (r.token_hash, r.prefix, r.label) for r in rows)
        assert len({*svc.tokens.values()}) == len(svc.tokens)  # random, never repeated

    def test_forged_malformed_and_missing(self, svc: Service) -> None:
        base = svc.client(None)
        for header in ("Bearer coa_" + "A" * 43, "Bearer not-a-token", "Basic Zm9vOmJhcg==",
                       "Bearer " + svc.tokens["gbr-viewer"][:-2] + "xx"):
            err = assert_error(base.get("/api/hubs", headers={"Authorization": header}), 401)
            assert err["code"] == "unauthenticated"
        resp = base.get("/api/hubs")
        assert_error(resp, 401)
        assert resp.headers["www-authenticate"].startswith("Bearer")

    def test_expired_and_revoked(self, svc: Service) -> None:
        with svc.db() as db:
            user = service.get_user(db, name="gbr-viewer")
            expired_row, expired = service.issue_token(db, user=user, days=1)
            expired_row.expires_at = expired_row.created_at - timedelta(seconds=1)
            _row, revoked = service.issue_token(db, user=user, days=1)
            revoked_id = _row.id
        c = svc.client(None)
        err = assert_error(c.get("/api/hubs", headers={"Authorization": f"Bearer {expired}"}), 401)
        assert "expired" in err["message"]
        ok = c.get("/api/hubs", headers={"Authorization": f"Bearer {revoked}"})
        assert ok.status_code == 200
        resp = svc.client("gbr-viewer").post(f"/api/users/gbr-viewer/tokens/{revoked_id}/revoke")
        assert resp.status_code == 200 and resp.json()["revoked_at"]
        err = assert_error(c.get("/api/hubs", headers={"Authorization": f"Bearer {revoked}"}), 401)
        assert "revoked" in err["message"]

    def test_deactivated_user(self, svc: Service) -> None:
        with svc.db() as db:
            user = service.get_user(db, name="gbr-depot2")
            _row, secret = service.issue_token(db, user=user)
            db.scalar(select(User).where(User.name == "gbr-depot2")).active = False
        c = svc.client(None)
        assert_error(c.get("/api/hubs", headers={"Authorization": f"Bearer {secret}"}), 401)

    def test_issue_token_once_via_api(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        resp = c.post("/api/users/gbr-viewer/tokens", json={"days": 2, "label": "laptop"})
        assert resp.status_code == 201
        secret = resp.json()["token"]
        me = svc.client(None).get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["name"] == "gbr-viewer"
        listed = c.get("/api/users/gbr-viewer/tokens").json()
        assert all("token" not in t for t in listed)
        # someone else's tokens: a viewer cannot, an admin of the same nation can
        assert_error(c.get("/api/users/gbr-planner/tokens"), 403)
        assert svc.client("gbr-admin").get("/api/users/gbr-planner/tokens").status_code == 200
        assert_error(svc.client("gbr-admin").get("/api/users/fra-planner/tokens"), 404)
        assert_error(c.post("/api/users/gbr-viewer/tokens", json={"days": 0}), 422)


class TestTokenLineage:
    """A token mints only tokens bounded by its own scope and expiry; revocation cascades."""

    def _mint(self, svc: Service, secret: str, user: str = "gbr-planner", **body: object):  # type: ignore[no-untyped-def]
        c = svc.client(None)
        return c.post(f"/api/users/{user}/tokens", json=body,
                      headers={"Authorization": f"Bearer {secret}"})

    def test_child_token_revocation(self, svc: Service) -> None:
        with svc.db() as db:
            user = service.get_user(db, name="gbr-planner")
            root_row, root = service.issue_token(db, user=user, days=2, label="leaked")
            root_id = root_row.id
        child = self._mint(svc, root, days=1, label="child")
        assert child.status_code == 201, child.text
        assert child.json()["parent_id"] == root_id
        grandchild = self._mint(svc, child.json()["token"])  # expires with its parent
        assert grandchild.status_code == 201, grandchild.text
        assert grandchild.json()["expires_at"] == child.json()["expires_at"]
        c = svc.client(None)
        for secret in (root, child.json()["token"], grandchild.json()["token"]):
            assert c.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        resp = svc.client("gbr-planner").post(f"/api/users/gbr-planner/tokens/{root_id}/revoke")
        assert resp.status_code == 200
        for secret in (root, child.json()["token"], grandchild.json()["token"]):
            err = assert_error(c.get("/api/me", headers={"Authorization": f"Bearer {secret}"}), 401)
            assert "revoked" in err["message"]

    def test_child_cannot_outlive_its_parent(self, svc: Service) -> None:
        with svc.db() as db:
            user = service.get_user(db, name="gbr-planner")
            _row, parent = service.issue_token(db, user=user, days=2)
        err = assert_error(self._mint(svc, parent, days=366), 422)
        assert err["problems"][0]["field"] == "days"
        assert "remaining" in err["message"] or "remaining" in err["problems"][0]["message"]
        assert self._mint(svc, parent, days=1).status_code == 201
        ok = self._mint(svc, parent, days=2)  # 2 days from now is a little past the parent
        assert ok.status_code == 422

    def test_child_scope_is_at_most_the_parents(self, svc: Service) -> None:
        with svc.db() as db:
            user = service.get_user(db, name="gbr-admin")
            _row, admin_full = service.issue_token(db, user=user, days=5)
        narrowed = self._mint(svc, admin_full, user="gbr-admin", days=3, roles=["viewer"])
        assert narrowed.status_code == 201, narrowed.text
        assert narrowed.json()["roles"] == ["viewer"]
        small = narrowed.json()["token"]
        me = svc.client(None).get("/api/me", headers={"Authorization": f"Bearer {small}"}).json()
        assert me["roles"] == ["viewer"]
        # the viewer-only child cannot re-widen itself, nor act as an admin
        err = assert_error(self._mint(svc, small, user="gbr-admin", days=1, roles=["admin"]), 422)
        assert err["problems"][0]["field"] == "roles"
        assert_error(svc.client(None).get("/api/users", headers={"Authorization": f"Bearer {small}"}), 403)


# --- coalition.auth.tokens directly, on a migrated database ----------------------------------


@pytest.fixture
def db(db_url: str):  # type: ignore[no-untyped-def]
    from coalition.store.db import make_engine, session_factory, transaction
    from coalition.store.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as s:
        yield s
    engine.dispose()


def _user(db, name: str = "ann", roles: tuple[str, ...] = ("planner", "viewer")) -> User:  # type: ignore[no-untyped-def]
    return service.create_user(db, data=UserCreate(name=name, nation="GBR", roles=[Role(r) for r in roles]))


def test_roles_are_narrowed_by_the_token_and_admin_covers_every_role() -> None:
    from coalition.auth.tokens import covered, effective_roles

    assert covered(["admin"], "planner") and covered(["planner"], "planner") and not covered(["viewer"], "planner")
    assert effective_roles(["planner", "viewer"], None) == {Role.PLANNER, Role.VIEWER}
    assert effective_roles(["planner", "viewer"], ["viewer", "admin"]) == {Role.VIEWER}  # never widened
    assert effective_roles(["admin"], ["inspector"]) == {Role.INSPECTOR}


def test_a_token_is_stored_only_as_its_hash_and_validity_is_bounded(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.tokens import MAX_DAYS, TOKEN_PREFIX, hash_token, issue_token

    user = _user(db)
    row, secret = issue_token(db, user=user, days=1, roles=["viewer", "viewer"])
    assert secret.startswith(TOKEN_PREFIX) and row.token_hash == hash_token(secret) and secret not in row.token_hash
    assert row.prefix == secret[: len(TOKEN_PREFIX) + 6] and row.roles == ["viewer"]
    for days in (0, MAX_DAYS + 1, -5):
        with pytest.raises(InputError) as err:
            issue_token(db, user=user, days=days)
        assert err.value.problems[0].field == "days"


def test_a_child_never_outlives_its_parent(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.tokens import aware, issue_token

    user = _user(db)
    parent, _ = issue_token(db, user=user, days=10)
    child, _ = issue_token(db, user=user, days=None, parent=parent)  # inherit: the parent's expiry
    assert aware(child.expires_at) == aware(parent.expires_at) and child.parent_id == parent.id
    with pytest.raises(InputError, match="must expire by"):
        issue_token(db, user=user, days=30, parent=parent)


def test_minting_from_a_token_caps_the_roles_at_the_parents(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.tokens import issue_token, mint_token

    user = _user(db)
    parent, _ = issue_token(db, user=user, days=10, roles=["viewer"])
    by = Principal(user_id=user.id, name=user.name, nation="GBR", roles=frozenset({Role.VIEWER}), token_id=parent.id)
    child, _ = mint_token(db, by=by, user=user, days=None)
    assert child.roles == ["viewer"] and child.parent_id == parent.id
    with pytest.raises(InputError, match="would widen it"):
        mint_token(db, by=by, user=user, days=None, roles=["planner"])
    with pytest.raises(InputError, match="does not hold role"):
        mint_token(db, by=by, user=user, days=None, roles=["inspector"])
    root, _ = mint_token(db, by=by.model_copy(update={"token_id": None}), user=user, days=5)
    assert root.parent_id is None  # an operator's token has no parent


def test_revoking_a_token_revokes_every_descendant_and_only_its_owner_can(db) -> None:  # type: ignore[no-untyped-def]
    from coalition.auth.tokens import descendants, issue_token, list_tokens, revoke_token

    ann, bob = _user(db), _user(db, "bob")
    a, _ = issue_token(db, user=ann, days=10)
    b, _ = issue_token(db, user=ann, days=None, parent=a)
    c, _ = issue_token(db, user=bob, days=None, parent=b)  # another user's grandchild
    other, _ = issue_token(db, user=ann, days=10)
    assert descendants(db, a.id) == [b.id, c.id] and descendants(db, c.id) == []
    with pytest.raises(NotFoundError):
        revoke_token(db, user=bob, token_id=a.id)
    with pytest.raises(NotFoundError):
        revoke_token(db, user=ann, token_id=10_000)
    revoke_token(db, user=ann, token_id=a.id)
    for t in (a, b, c):
        db.refresh(t)
        assert t.revoked_at is not None
    db.refresh(other)
    assert other.revoked_at is None
    first = a.revoked_at
    revoke_token(db, user=ann, token_id=a.id)  # idempotent: the first revocation time stays
    assert a.revoked_at == first
    assert [t.id for t in list_tokens(db, user=ann)] == [a.id, b.id, other.id]
