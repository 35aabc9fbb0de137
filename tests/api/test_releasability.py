"""The derived-data policy at its interface: who appears in a reader's gap picture."""

from __future__ import annotations

from api.harness import Service


def _nations(svc: Service, user: str) -> list[str]:
    resp = svc.client(user).get("/api/gaps", params={"option": "small",
                                                     "assume": ["ceasefire=2026-06-01"]})
    assert resp.status_code == 200, resp.text
    return [n["nation"] for n in resp.json()["activation"]["nations"]]


class TestActivationNations:
    def test_only_the_caller_and_nations_that_released_to_it(self, svc: Service) -> None:
        assert _nations(svc, "gbr-viewer") == ["GBR"]
        assert sorted(_nations(svc, "hq-admin")) == ["FRA", "GBR"]  # HQ: released to it
        fra = svc.client("fra-planner")
        assert fra.put("/api/pledges/FRA-inf/release",
                       json={"releasable_to": ["GBR", "HQ"]}).status_code == 200
        try:
            assert _nations(svc, "gbr-viewer") == ["FRA", "GBR"]
            lines = svc.client("gbr-viewer").get("/api/gaps", params={"option": "small"}).json()
            assert lines["basis"] == "all pledges"  # now the UK sees every pledge
        finally:
            assert fra.put("/api/pledges/FRA-inf/release",
                           json={"releasable_to": ["HQ"]}).status_code == 200
        assert _nations(svc, "gbr-viewer") == ["GBR"]  # the cached answer followed the marking


class TestRevisionNotes:
    """Edit notes are free text about restricted records (a canary test): a note on a French
    pledge reaches neither the British list of revisions nor its author's name, until the
    pledge is released to the UK."""

    def test_another_nations_note_is_withheld_until_released(self, svc: Service) -> None:
        from api.factories import tiny_scenario
        from coalition.auth.schemas import HQ, Principal
        from coalition.scenario import store

        system = Principal(user_id=None, name="system", nation=HQ, roles=frozenset())
        with svc.db() as db:  # a scenario of its own: the pledge is withdrawn below
            store.create(db, scenario=tiny_scenario("notes"), principal=system)
        where = {"scenario": "notes"}
        canary, public = "canary-7f3a readiness of 2nd bde", "canary-51c0 public set"
        hq_note = "canary-e9d2 accepted after call with Paris"
        assert svc.client("hq-planner").post("/api/pledges/FRA-inf/transition", params=where,
                                             json={"state": "accepted", "note": hq_note}
                                             ).status_code == 200
        fra = svc.client("fra-planner")
        assert fra.post("/api/pledges/FRA-inf/transition", params=where,
                        json={"state": "withdrawn", "note": canary}).status_code == 200
        assert fra.put("/api/scenarios/notes/assumption-sets/fra-view",
                       json={"assumptions": ["ceasefire=2026-06-01"], "note": public}
                       ).status_code == 200

        def revisions(user: str) -> list[dict]:
            r = svc.client(user).get("/api/scenarios/notes/revisions", params={"limit": 500})
            assert r.status_code == 200, r.text
            return r.json()["items"]

        gbr = revisions("gbr-viewer")
        assert canary not in str(gbr) and hq_note not in str(gbr)
        about_pledge = [e for e in gbr if e["kind"] == "pledge.transition"]
        assert len(about_pledge) == 2 and all(
            e["withheld"] and e["note"] is None and e["author"] is None for e in about_pledge)
        assert public in str(gbr)  # an assumption set is no restricted record
        assert canary in str(revisions("fra-planner"))  # its own nation
        assert canary in str(revisions("hq-admin"))  # released to HQ
        assert fra.put("/api/pledges/FRA-inf/release", params=where,
                       json={"releasable_to": ["GBR", "HQ"]}).status_code == 200
        assert canary in str(revisions("gbr-viewer"))  # released to the UK: readable too


class TestCachedPages:
    def test_a_cached_page_is_never_served_to_another_scope(self, svc: Service) -> None:
        def ids(user: str) -> list[str]:
            r = svc.client(user).get("/api/pledges")
            assert r.status_code == 200, r.text
            return [p["id"] for p in r.json()["items"]]

        for _round in range(2):  # the second round is answered from the cache
            assert sorted(ids("hq-admin")) == ["FRA-inf", "GBR-inf"]
            assert ids("gbr-viewer") == ["GBR-inf"]
            assert ids("fra-planner") == ["FRA-inf"]
            assert ids("gbr-planner") == ["GBR-inf"]
