"""``GET /api/scenarios/{ref}/diff``: the revision diff of coalition.scenario.revdiff through the
API (the dashboard's /scenario/diff and ``coalition scenario diff`` call the same service).

The canary: revision 2 is France changing its own (restricted) pledge's notice to a value that
appears nowhere else; the British diff never carries it, nor the pledge's id, nor a count that
tells the change happened. Errors: 404 for an unknown scenario or revision, 422 naming the
parameter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.factories import tiny_scenario
from api.harness import Service, build_service, class_db_url
from api.resources import assert_error, audit_entries
from coalition.auth.schemas import HQ, Principal, Role
from coalition.scenario import store
from coalition.scenario.rules import EditPledge, SetAssumptions

CANARY_NOTICE = 47  # France's restricted value (the tiny scenario has no 47 anywhere)
KEY = "difftest"


def _who(nation: str) -> Principal:
    return Principal(user_id=None, name=f"{nation.lower()}-x", nation=nation,
                     roles=frozenset({Role.PLANNER}))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def diffsvc(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Service]:
    """Revisions of scenario ``difftest``: 1 created; 2 France's pledge notice 20 -> 47;
    3 a British assumption set (public)."""
    urls = class_db_url(request, tmp_path_factory)
    svc = build_service(next(urls), tmp_path_factory.mktemp("data"))
    sc = tiny_scenario(KEY)
    fra = next(p for p in sc.pledges if p.nation == "FRA")
    system = Principal(user_id=None, name="system", nation=HQ, roles=frozenset())
    with svc.db() as db:
        sid = store.create(db, scenario=sc, principal=system).id
    for rev, (who, change) in enumerate((
            (_who("FRA"), EditPledge(pledge=fra.model_copy(update={"notice_days": CANARY_NOTICE}))),
            (_who("GBR"), SetAssumptions(name="gbr-view", assumptions=("ceasefire=2026-07-01",)))),
            start=1):
        with svc.db() as db:
            store.edit(db, sid, rev, change, who)
    yield svc
    svc.app.state.coalition.runs.shutdown()
    svc.app.state.coalition.engine.dispose()
    next(urls, None)


def _diff(svc: Service, user: str, **params: object) -> dict:  # type: ignore[type-arg]
    resp = svc.client(user).get(f"/api/scenarios/{KEY}/diff", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _records(body: dict, table: str) -> dict[str, dict]:  # type: ignore[type-arg]
    for t in body["tables"]:
        if t["table"] == table:
            return {r["key"]: r for r in t["records"]}
    return {}


def test_hq_sees_the_french_change_field_by_field(diffsvc: Service) -> None:
    body = _diff(diffsvc, "hq-planner", **{"from": 1, "to": 3})
    assert (body["from_revision"], body["to_revision"], body["head"]) == (1, 3, 3)
    fra = _records(body, "pledges")["FRA-inf"]
    assert fra["what"] == "changed"
    assert {f["field"]: (f["before"], f["after"]) for f in fra["fields"]} == {
        "notice_days": (20, CANARY_NOTICE)}
    assert _records(body, "assumption_sets")["gbr-view"]["what"] == "added"
    assert body["count"] == 2 and body["partial"] is False
    back = _diff(diffsvc, "hq-planner", **{"from": 3, "to": 1})  # either order
    assert {f["field"]: (f["before"], f["after"]) for f in
            _records(back, "pledges")["FRA-inf"]["fields"]} == {"notice_days": (CANARY_NOTICE, 20)}
    assert _records(back, "assumption_sets")["gbr-view"]["what"] == "removed"


def test_canary_the_french_value_never_reaches_the_uk(diffsvc: Service) -> None:
    for user in ("gbr-planner", "gbr-viewer"):
        for a, b in [(1, 2), (2, 1), (1, 3), (3, 1), (2, 3)]:
            text = diffsvc.client(user).get(f"/api/scenarios/{KEY}/diff",
                                            params={"from": a, "to": b}).text
            assert str(CANARY_NOTICE) not in text and "FRA-inf" not in text, (user, a, b, text)
            assert '"pledges"' not in text, (user, a, b)
        # France's change and no change at all look the same to the UK (count, partial note)
        one, none = _diff(diffsvc, user, **{"from": 1, "to": 2}), _diff(diffsvc, user,
                                                                        **{"from": 2, "to": 2})
        assert one["tables"] == none["tables"] == [] and one["count"] == none["count"] == 0
        assert one["partial"] is none["partial"] is True
    gbr = _diff(diffsvc, "gbr-planner", **{"from": 2, "to": 3})
    assert _records(gbr, "assumption_sets")["gbr-view"]["what"] == "added"  # public: shown
    mine = _diff(diffsvc, "fra-planner", **{"from": 1, "to": 2})  # France sees its own change
    assert _records(mine, "pledges")["FRA-inf"]["fields"][0]["after"] == CANARY_NOTICE


def test_defaults_the_head_against_the_revision_before(diffsvc: Service) -> None:
    body = _diff(diffsvc, "hq-planner")
    assert (body["from_revision"], body["to_revision"]) == (2, 3)
    assert [t["table"] for t in body["tables"]] == ["assumption_sets"]
    assert (_diff(diffsvc, "hq-planner", to=2)["from_revision"]) == 1
    assert _diff(diffsvc, "hq-planner", **{"from": 1})["to_revision"] == 3


def test_the_read_is_audited(diffsvc: Service) -> None:
    _diff(diffsvc, "gbr-planner", **{"from": 1, "to": 3})
    notes = [e["note"] for e in audit_entries(diffsvc, object_type="scenario")]
    assert "API diff r1..r3" in notes


def test_unknown_scenario_or_revision_is_404(diffsvc: Service) -> None:
    c = diffsvc.client("gbr-planner")
    assert_error(c.get("/api/scenarios/no-such/diff", params={"from": 1, "to": 1}), 404)
    assert_error(c.get("/api/scenarios/999999/diff"), 404)
    near = assert_error(c.get(f"/api/scenarios/{KEY}/diff", params={"from": 1, "to": 4}), 404)
    far = assert_error(c.get(f"/api/scenarios/{KEY}/diff", params={"from": 10**6, "to": 1}), 404)
    # Every reader may list every revision (GET …/revisions), so the answer names the range;
    # a revision just past the head and one far beyond it get the same answer.
    assert near["message"].replace("4", "N") == far["message"].replace(str(10**6), "N")
    assert "revisions are 1..3" in near["message"]


@pytest.mark.parametrize("params, field", [
    ({"from": "abc"}, "from"), ({"from": 0}, "from"), ({"to": -1}, "to"),
    ({"to": "2.5"}, "to"), ({"from": 2**40}, "from"),
])
def test_bad_revision_is_422_naming_the_parameter(diffsvc: Service, params: dict,  # type: ignore[type-arg]
                                                  field: str) -> None:
    err = assert_error(diffsvc.client("hq-planner").get(f"/api/scenarios/{KEY}/diff",
                                                        params=params), 422)
    assert [p["field"] for p in err["problems"]] == [field]
    assert err["problems"][0]["file"] == "query"


def test_unauthenticated_is_401(diffsvc: Service) -> None:
    assert_error(diffsvc.client(None).get(f"/api/scenarios/{KEY}/diff"), 401)
