"""Stored-scenario writes through the API: ETag/If-Match, 409 with the current revision, the
cross-nation upload refused as a whole, the default as an HQ admin action."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.factories import tiny_scenario
from api.harness import Service, build_service, class_db_url
from api.resources import assert_error, audit_entries
from coalition.scenario.schemas import PledgeState


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Service]:
    urls = class_db_url(request, tmp_path_factory)
    s = build_service(next(urls), tmp_path_factory.mktemp("data"))
    yield s
    s.app.state.coalition.runs.shutdown()
    s.app.state.coalition.engine.dispose()
    next(urls, None)


def upload(client, scenario, *, if_match: str | None = None, **params):  # type: ignore[no-untyped-def]
    body = json.dumps(scenario.model_dump(mode="json")).encode()
    headers = {"If-Match": if_match} if if_match else {}
    return client.post("/api/scenarios", files={"file": ("s.json", body, "application/json")},
                       headers=headers, params=params)


def test_stale_if_match_is_409_with_current_revision(fresh: Service) -> None:
    hq_a, hq_b = fresh.client("hq-planner"), fresh.client("hq-admin")
    tag = hq_a.get("/api/pledges/GBR-inf").headers["etag"]
    assert tag == hq_b.get("/api/scenarios/tiny").headers["etag"] == '"1"'
    first = hq_a.post("/api/pledges/GBR-inf/transition", json={"state": "accepted"},
                      headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    # The second planner's change is based on revision 1 too: refused, nothing written.
    err = assert_error(hq_b.post("/api/pledges/FRA-inf/transition", json={"state": "accepted"},
                                 headers={"If-Match": tag}), 409)
    assert err["current_revision"] == 2 and "revision 2, not 1" in err["message"]
    assert hq_b.get("/api/pledges/FRA-inf").json()["state"] == "offered"
    retry = hq_b.post("/api/pledges/FRA-inf/transition", json={"state": "accepted"},
                      headers={"If-Match": '"2"'})
    assert retry.status_code == 200 and retry.headers["etag"] == '"3"'
    revisions = hq_b.get("/api/scenarios/tiny/revisions").json()["items"]
    assert [r["revision"] for r in revisions] == [1, 2, 3]


def test_cross_nation_upload_of_the_default_is_refused(fresh: Service) -> None:
    gbr, fra = fresh.client("gbr-planner"), fresh.client("fra-planner")
    assert gbr.put("/api/pledges/GBR-inf/release", json={"releasable_to": ["FRA", "HQ"]},
                   headers={"If-Match": '"1"'}).status_code == 200
    sc = tiny_scenario()
    p_gbr, p_fra = sc.pledges
    hostile = sc.model_copy(update={"pledges": (
        p_gbr.model_copy(update={"state": PledgeState.WITHDRAWN}),
        p_fra.model_copy(update={"state": PledgeState.ACCEPTED}))})
    before = fresh.client("hq-admin").get("/api/scenarios").json()
    for params in ({"make_default": "true"}, {}):
        err = assert_error(upload(fra, hostile, if_match='"2"', **params), 403)
        assert "GBR-inf" in err["message"] and "headquarters" in err["message"]
    # Without If-Match an import is refused too (409 naming the revision to base it on).
    assert assert_error(upload(fra, hostile), 409)["current_revision"] == 2
    # Nothing changed: GBR's pledge, its releasability, the scenario list and the default.
    pledge = gbr.get("/api/pledges/GBR-inf").json()
    assert pledge["state"] == "offered"
    assert pledge["marking"]["releasable_to"] == ["FRA", "HQ"]
    after = fresh.client("hq-admin").get("/api/scenarios").json()
    assert after == before


def test_upload_of_a_known_key_is_an_import_never_a_second_scenario(fresh: Service) -> None:
    fra = fresh.client("fra-planner")
    sc = tiny_scenario()
    own = sc.model_copy(update={"pledges": (sc.pledges[0], sc.pledges[1].model_copy(
        update={"units": 2}))})
    resp = upload(fra, own, if_match='"1"')
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] is False and resp.headers["etag"] == '"2"'
    keys = [s["key"] for s in fresh.client("hq-admin").get("/api/scenarios").json()["items"]]
    assert keys.count("tiny") == 1
    assert fra.get("/api/pledges/FRA-inf").json()["units"] == 2
    (entry,) = audit_entries(fresh, request_id=resp.headers["x-request-id"])
    assert entry["action"] == "import" and any("FRA-inf" in d for d in entry["after"])
    new = upload(fra, tiny_scenario("fra-draft"))
    assert new.status_code == 201 and new.json()["created"] is True


def test_default_is_hq_admin_only_and_audited(fresh: Service) -> None:
    created = upload(fresh.client("fra-planner"), tiny_scenario("fra-draft"))
    sid = created.json()["id"]
    for user in ("fra-planner", "hq-planner", "gbr-admin"):
        assert_error(fresh.client(user).post(f"/api/scenarios/{sid}/default"), 403)
    assert_error(upload(fresh.client("fra-planner"), tiny_scenario("fra-2"),
                        make_default="true"), 403)
    assert fresh.client("hq-admin").get("/api/scenarios/fra-2").status_code == 404  # rolled back
    resp = fresh.client("hq-admin").post(f"/api/scenarios/{sid}/default")
    assert resp.status_code == 200 and resp.json()["default"] is True
    (entry,) = audit_entries(fresh, request_id=resp.headers["x-request-id"])
    assert entry["action"] == "default" and entry["object_id"] == str(sid)
    listed = {s["key"]: s["default"] for s in
              fresh.client("gbr-viewer").get("/api/scenarios").json()["items"]}
    assert listed["fra-draft"] is True and listed["tiny"] is False
    assert sum(listed.values()) == 1


def test_pledge_content_belongs_to_the_pledging_nation(fresh: Service) -> None:
    gbr, fra, hq = (fresh.client(u) for u in ("gbr-planner", "fra-planner", "hq-planner"))
    body = gbr.get("/api/pledges/GBR-inf").json()
    pledge = {k: v for k, v in body.items() if k not in ("marking", "next_states")}
    changed = {**pledge, "units": 2}
    err = assert_error(hq.put("/api/pledges/GBR-inf", json=changed), 403)
    assert "only GBR changes GBR's pledge, not HQ" in err["message"]
    assert_error(fra.put("/api/pledges/GBR-inf", json=changed), 404)  # not released to FRA
    moved = assert_error(gbr.put("/api/pledges/GBR-inf", json={**pledge, "nation": "FRA"}), 403)
    assert "cannot move from GBR to FRA" in moved["message"]
    skipped = assert_error(gbr.put("/api/pledges/GBR-inf", json={**pledge, "state": "deployed"}),
                           409)
    assert "transition" in skipped["message"]
    ok = gbr.put("/api/pledges/GBR-inf", json=changed, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["units"] == 2 and ok.headers["etag"] == '"2"'
    # A new pledge: its nation adds it (offered); another nation may not pledge for it.
    new = {**pledge, "id": "GBR-inf-2"}
    assert_error(fra.put("/api/pledges/GBR-inf-2", json=new), 403)
    added = gbr.put("/api/pledges/GBR-inf-2", json=new)
    assert added.status_code == 200, added.text
    assert gbr.get("/api/pledges/GBR-inf-2").json()["state"] == "offered"
    bad = assert_error(gbr.put("/api/pledges/GBR-inf-3", json={**new, "id": "GBR-inf-3",
                                                              "capability": "tank-bn"}), 422)
    assert "tank-bn" in str(bad)


def test_assumption_sets_are_their_nations(fresh: Service) -> None:
    fra, gbr, hq = (fresh.client(u) for u in ("fra-planner", "gbr-planner", "hq-planner"))
    path = "/api/scenarios/tiny/assumption-sets/fra-view"
    made = fra.put(path, json={"assumptions": ["ceasefire=2026-07-01"]},
                   headers={"If-Match": '"1"'})
    assert made.status_code == 200 and made.json()["owner"] == "FRA", made.text
    err = assert_error(gbr.put(path, json={"assumptions": ["ceasefire=2027-01-01"]}), 403)
    assert "belongs to FRA" in err["message"]
    stale = assert_error(hq.put(path, json={"assumptions": []}, headers={"If-Match": '"1"'}), 409)
    assert stale["current_revision"] == 2
    assert hq.put(path, json={"assumptions": ["ceasefire=2026-08-01"]}).json()["owner"] == "FRA"
    sets = gbr.get("/api/scenarios/tiny").json()["assumption_sets"]
    assert sets == {"fra-view": {"owner": "FRA", "assumptions": ["ceasefire=2026-08-01"]}}
    assert_error(fresh.client("gbr-viewer").put(path, json={"assumptions": []}), 403)
