"""Denied attempts leave audit entries of their own (the request's transaction rolls back);
unknown ids do not; audit times are timezone-aware UTC."""

from __future__ import annotations

from datetime import datetime

from api.harness import Service
from api.resources import assert_error, audit_entries


class TestDenialsAudited:
    def test_401_is_audited_as_anonymous(self, svc: Service) -> None:
        resp = svc.client(None).get("/api/hubs", headers={"Authorization": "Bearer coa_" + "Z" * 43})
        assert_error(resp, 401)
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert entry["action"] == "denied-401" and entry["user_name"] == "(anonymous)"
        assert entry["object_id"] == "GET /api/hubs" and "unknown token" in entry["note"]

    def test_404_on_a_real_object_is_audited_but_not_on_an_unknown_id(self, svc: Service) -> None:
        c = svc.client("gbr-viewer")
        real = c.get("/api/pledges/FRA-inf")
        unknown = c.get("/api/pledges/NO-SUCH")
        assert_error(real, 404)["message"] == assert_error(unknown, 404)["message"].replace(
            "NO-SUCH", "FRA-inf")  # the answers do not tell them apart
        (entry,) = audit_entries(svc, request_id=real.headers["x-request-id"])
        assert (entry["action"], entry["object_type"], entry["object_id"]) == (
            "denied-404", "pledge", "FRA-inf")
        assert entry["user_name"] == "gbr-viewer" and entry["nation"] == "GBR"
        assert audit_entries(svc, request_id=unknown.headers["x-request-id"]) == []

    def test_audit_times_are_utc_aware(self, svc: Service) -> None:
        assert svc.client("gbr-viewer").get("/api/pledges/GBR-inf").status_code == 200
        for entry in audit_entries(svc)[:5]:
            at = datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
            assert at.utcoffset() is not None and at.utcoffset().total_seconds() == 0


class TestOtherDenialsAudited:
    def test_another_nations_report_is_a_logged_404(self, svc: Service) -> None:
        resp = svc.client("gbr-viewer").get("/api/reports/accountability", params={"donor": "FRA"})
        assert_error(resp, 404)
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert (entry["action"], entry["object_type"], entry["object_id"]) == (
            "denied-404", "accountability-report", "FRA")
