"""Bad input and security: one error shape, headers, body limits, CSRF, audit immutability,
write-then-verify rollback, users and the audit trail's content."""

from __future__ import annotations

import re

from api.harness import Service
from api.resources import assert_error, audit_entries


class TestSecurity:
    def test_security_headers_everywhere(self, svc: Service) -> None:
        for path in ("/health", "/api/hubs", "/login", "/static/css/app.css", "/nope"):
            resp = svc.client("gbr-viewer").get(path)
            h = resp.headers
            assert "default-src 'self'" in h["content-security-policy"], path
            assert "frame-ancestors 'none'" in h["content-security-policy"]
            assert h["x-frame-options"] == "DENY"
            assert h["x-content-type-options"] == "nosniff"
            assert h["referrer-policy"] == "no-referrer"
            assert re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"])

    def test_request_id_is_taken_from_the_client_when_safe(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        assert c.get("/api/hubs", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
        assert c.get("/api/hubs", headers={"X-Request-ID": "<script>"}).headers["x-request-id"] != "<script>"

    def test_malformed_and_wrong_types(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        err = assert_error(c.post("/api/pledges/GBR-inf/transition", content=b'{"state": ',
                                  headers={"content-type": "application/json"}), 422)
        assert err["message"] == "malformed JSON body"
        err = assert_error(c.post("/api/pledges/GBR-inf/transition", json={"state": "promoted"}), 422)
        assert err["problems"][0]["field"] == "state"
        assert_error(c.post("/api/pledges/GBR-inf/transition", json={"state": "accepted", "x": 1}), 422)
        assert_error(c.get("/api/hubs", params={"limit": "many"}), 422)
        assert_error(c.get("/api/nope"), 404)
        assert_error(c.delete("/api/hubs"), 405)

    def test_oversized_body_is_refused_before_reading(self, svc: Service) -> None:
        limit = svc.app.state.coalition.settings.max_upload_bytes
        c = svc.client("gbr-planner")
        before = c.get("/api/scenarios").json()["total"]
        big = b"x" * (limit + 1)
        err = assert_error(c.post("/api/scenarios", files={"file": ("big.yaml", big, "text/yaml")}), 413)
        assert str(limit) in err["message"]
        assert c.get("/api/scenarios").json()["total"] == before

    def test_invalid_scenario_upload_lists_problems_and_stores_nothing(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        before = c.get("/api/scenarios").json()["total"]
        bad = b"id: broken\nname: Broken\npledges:\n  - id: P1\n    nation: GBX\n"
        err = assert_error(c.post("/api/scenarios", files={"file": ("broken.yaml", bad, "text/yaml")}), 422)
        assert err["problems"] and all(p["file"] for p in err["problems"])
        err = assert_error(c.post("/api/scenarios", files={"file": ("s.exe", b"MZ", "x")}), 422)
        assert "unsupported file type" in err["message"]
        report = c.post("/api/scenarios/validate", files={"file": ("broken.yaml", bad, "text/yaml")}).json()
        assert report["ok"] is False and report["problems"]
        assert c.get("/api/scenarios").json()["total"] == before

    def test_audit_log_is_read_only(self, svc: Service) -> None:
        c = svc.client("hq-admin")
        assert svc.client("gbr-viewer").get("/api/pledges/GBR-inf").status_code == 200
        entry = audit_entries(svc)[0]
        for method in ("PUT", "PATCH", "DELETE"):
            assert_error(c.request(method, f"/api/audit/{entry['id']}", json={}), 405)
        assert_error(c.post("/api/audit", json={}), 405)
        assert_error(svc.client("gbr-viewer").get("/api/audit"), 403)
        again = c.get(f"/api/audit/{entry['id']}").json()
        assert again == entry

    def test_audit_entry_content(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        resp = c.put("/api/pledges/GBR-inf/release", json={"releasable_to": ["FRA", "HQ"]})
        assert resp.status_code == 200
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert entry["user_name"] == "gbr-planner" and entry["user_id"]
        assert entry["nation"] == "GBR" and entry["action"] == "release"
        assert entry["object_type"] == "pledge" and entry["object_id"] == "GBR-inf"
        assert entry["before"]["releasable_to"] == ["HQ"]
        assert entry["after"]["releasable_to"] == ["FRA", "HQ"]
        assert entry["at"]
        # Released: the French planner now reads the British pledge, but cannot change it.
        fra = svc.client("fra-planner")
        assert fra.get("/api/pledges/GBR-inf").status_code == 200
        assert_error(fra.post("/api/pledges/GBR-inf/transition", json={"state": "withdrawn"}), 403)
        # A French admin's audit view shows French entries only; HQ sees all nations.
        nations = {e["nation"] for e in audit_entries(svc)}
        assert {"GBR", "FRA"} <= nations

    def test_audit_filters_combine_and_bad_ones_are_refused_by_name(self, svc: Service) -> None:
        resp = svc.client("gbr-planner").put("/api/pledges/GBR-inf/release", json={"releasable_to": ["FRA", "HQ"]})
        assert resp.status_code == 200
        rid = resp.headers["x-request-id"]
        assert len(audit_entries(svc, request_id=rid, nation="GBR", action="release", object_id="GBR-inf")) == 1
        assert audit_entries(svc, request_id=rid, nation="FRA") == []  # filters are ANDed
        assert audit_entries(svc, request_id=rid, until="2000-01-01T00:00:00Z") == []
        admin = svc.client("hq-admin")
        for params, field in (
            ({"nation": "gb"}, "nation"),  # not a nation code, HQ or -
            ({"since": "2026-01-01T00:00:00"}, "since"),  # a time without its zone
            ({"object_id": "x" * 201}, "object_id"),  # over the length limit
            ({"actor": "gbr-planner"}, "actor"),  # not a parameter of this route
        ):
            err = assert_error(admin.get("/api/audit", params=params), 422)
            assert field in {p["field"] for p in err["problems"]}, err

    def test_write_leaving_scope_rolls_back(self, svc: Service) -> None:
        # A British admin may not create a French account: the row is written, re-read through
        # the same scope, found outside it, and the transaction rolls back.
        c = svc.client("gbr-admin")
        err = assert_error(c.post("/api/users", json={"name": "pierre", "nation": "FRA",
                                                      "roles": ["viewer"]}), 403)
        assert "outside your scope" in err["message"]
        assert_error(svc.client("hq-admin").get("/api/users/pierre"), 404)
        ok = c.post("/api/users", json={"name": "jane", "nation": "GBR", "roles": ["viewer"]})
        assert ok.status_code == 201
        assert_error(c.post("/api/users", json={"name": "jane", "nation": "GBR", "roles": ["viewer"]}), 409)

    def test_hq_decisions_and_lifecycle(self, svc: Service) -> None:
        c = svc.client("fra-planner")
        err = assert_error(c.post("/api/pledges/FRA-inf/transition", json={"state": "verified"}), 409)
        assert "valid next states" in err["message"]
        err = assert_error(c.post("/api/pledges/FRA-inf/transition", json={"state": "accepted"}), 403)
        assert "headquarters" in err["message"]


class TestDashboardSecurity:
    def _signed_in(self, svc: Service, user: str):  # type: ignore[no-untyped-def]
        c = svc.client(None)
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        resp = c.post("/login", data={"token": svc.tokens[user], "csrf": csrf}, follow_redirects=False)
        assert resp.status_code == 303
        cookie = resp.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
        return c

    def test_login_needs_csrf(self, svc: Service) -> None:
        c = svc.client(None)
        c.get("/login")
        resp = c.post("/login", data={"token": svc.tokens["gbr-planner"], "csrf": "forged"},
                      headers={"accept": "text/html"}, follow_redirects=False)
        assert resp.status_code == 403 and "CSRF" in resp.text
        assert c.get("/map", follow_redirects=False).status_code == 303  # not signed in

    def test_plan_form_needs_csrf_and_writes_nothing(self, svc: Service) -> None:
        c = self._signed_in(svc, "gbr-planner")
        before = c.get("/api/plans").json()["total"]
        resp = c.post("/plan/run", data={"option": "small", "csrf": "nope"},
                      headers={"accept": "text/html"}, follow_redirects=False)
        assert resp.status_code == 403
        assert c.get("/api/plans").json()["total"] == before

    def test_cookie_cannot_write_the_api(self, svc: Service) -> None:
        c = self._signed_in(svc, "gbr-planner")
        assert c.get("/api/me").json()["name"] == "gbr-planner"  # reads with the cookie
        assert_error(c.post("/api/plans", json={"option": "small"}), 401)  # writes need a token

    def test_revoking_the_token_ends_the_session(self, svc: Service) -> None:
        with svc.db() as db:
            from coalition.auth import service

            user = service.get_user(db, name="gbr-viewer")
            row, secret = service.issue_token(db, user=user)
            token_id = row.id
        c = svc.client(None)
        page = c.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        c.post("/login", data={"token": secret, "csrf": csrf})
        assert c.get("/map").status_code == 200
        svc.client("gbr-viewer").post(f"/api/users/gbr-viewer/tokens/{token_id}/revoke")
        resp = c.get("/map", follow_redirects=False)
        assert resp.status_code == 303 and "revoked" in resp.headers["location"]

    def test_other_nations_detail_not_in_pages(self, svc: Service) -> None:
        c = self._signed_in(svc, "gbr-planner")
        hub = c.get("/hubs/LVIV")
        assert hub.status_code == 200 and "FRA-inf" not in hub.text
        assert c.get("/hubs/NOWHERE", headers={"accept": "text/html"}).status_code == 404


class TestDocs:
    def test_openapi_and_docs_are_served_locally(self, svc: Service) -> None:
        c = svc.client(None)
        spec = c.get("/openapi.json").json()
        assert "/api/hubs" in spec["paths"]
        page = c.get("/docs")
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") for a in assets)  # nothing from the internet
        for asset in assets:
            assert c.get(asset).status_code == 200, asset


class TestAuditAppendOnly:
    def test_database_refuses_update_and_delete(self, svc: Service) -> None:
        import pytest
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        assert svc.client("gbr-viewer").get("/api/pledges/GBR-inf").status_code == 200
        for sql in ("UPDATE audit_log SET user_name = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="append-only"):
                with svc.db() as db:
                    db.execute(text(sql))
        assert audit_entries(svc)[0]["user_name"] == "gbr-viewer"
