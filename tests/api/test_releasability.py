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
