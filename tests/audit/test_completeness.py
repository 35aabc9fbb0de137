"""Every read of restricted detail leaves an entry: lists as well as single reads, dashboard
pages as well as the API; the dashboard's audit page filters, pages and shows before/after."""

from __future__ import annotations

import re

from api.harness import Service
from api.resources import audit_entries


def _signed_in(svc: Service, user: str):  # type: ignore[no-untyped-def]
    c = svc.client(None)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    assert c.post("/login", data={"token": svc.tokens[user], "csrf": csrf}).status_code == 200
    return c


class TestReadsAudited:
    def test_pledge_list_is_audited_with_the_ids_shown(self, svc: Service) -> None:
        resp = svc.client("gbr-viewer").get("/api/pledges")
        shown = [p["id"] for p in resp.json()["items"]]
        assert shown
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert (entry["action"], entry["object_type"]) == ("list", "pledge")
        assert entry["after"]["ids"] == shown and entry["user_name"] == "gbr-viewer"

    def test_public_lists_are_not_audited(self, svc: Service) -> None:
        resp = svc.client("gbr-viewer").get("/api/hubs")
        assert audit_entries(svc, request_id=resp.headers["x-request-id"]) == []

    def test_custody_event_list_is_audited(self, svc: Service) -> None:
        resp = svc.client("hq-inspector").get("/api/custody-events", params={"limit": 3})
        seqs = [str(e["seq"]) for e in resp.json()["items"]]
        assert seqs
        (entry,) = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert entry["object_type"] == "custody-event" and entry["after"]["ids"] == seqs

    def test_dashboard_ledger_page_is_audited(self, svc: Service) -> None:
        c = _signed_in(svc, "hq-inspector")
        resp = c.get("/ledger")
        assert resp.status_code == 200
        entries = audit_entries(svc, request_id=resp.headers["x-request-id"])
        assert any(e["object_type"] == "custody-event" and e["action"] == "list" for e in entries)


class TestAuditPage:
    def test_filters_paging_and_before_after(self, svc: Service) -> None:
        c = svc.client("gbr-planner")
        for target in (["FRA", "HQ"], ["HQ"]):
            assert c.put("/api/pledges/GBR-inf/release", json={"releasable_to": target}).status_code == 200
        for _ in range(3):
            svc.client("gbr-viewer").get("/api/pledges/GBR-inf")
        page = _signed_in(svc, "hq-admin")
        html = page.get("/audit", params={"actor": "gbr-planner", "action": "release"}).text
        rows = re.findall(r"<tr><td>\d+</td>", html)
        assert len(rows) >= 2 and "gbr-viewer" not in html.split('data-testid="audit"')[1]
        assert "releasable_to" in html  # before/after shown
        by_nation = page.get("/audit", params={"nation": "FRA"}).text
        assert "gbr-planner" not in by_nation.split('data-testid="audit"')[1]
        future = page.get("/audit", params={"since": "2099-01-01T00:00"}).text
        assert "0 entries match" in future
        obj = page.get("/audit", params={"object_type": "pledge", "object_id": "GBR-inf"}).text
        assert "GBR-inf" in obj
        # paging walks every entry: count rows over all pages = the total
        total = int(re.search(r"\((\d+) entries match", page.get("/audit").text).group(1))
        seen, url = 0, "/audit"
        while url:
            text = page.get(url).text
            seen += len(re.findall(r"<tr><td>\d+</td>", text))
            nxt = re.search(r'href="([^"]+)" data-testid="audit-next"', text)
            url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        assert seen >= total  # entries written meanwhile (the page reads) may add a few
