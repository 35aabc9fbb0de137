"""The scenario page lists revisions as the reader may see them and compares any two: records
added, removed and changed per table and field; a British restricted value never appears in
France's comparison (the canary), while Britain and HQ see it."""

from __future__ import annotations

import re

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from coalition.auth.schemas import Principal, Role
from coalition.scenario import store
from coalition.scenario.rules import EditPledge
from coalition.scenario.schemas import PledgeState
from dashboard.test_i18n import _sign_in

CANARY_ID = "GBR-canary-q7z"
CANARY_PEOPLE = 987654


def _gbr_adds_a_restricted_pledge(svc: Service) -> tuple[int, int]:
    gbr = Principal(user_id=None, name="gbr-planner", nation="GBR",
                    roles=frozenset({Role.PLANNER}))
    with svc.db() as db:
        sid, head, state = store.current_state(db, ref=None)
        mine = next(p for p in state.scenario.pledges if p.nation == "GBR")
        pledge = mine.model_copy(update={"id": CANARY_ID, "personnel_per_unit": CANARY_PEOPLE,
                                         "state": PledgeState.OFFERED})
        store.edit(db, sid, head, EditPledge(pledge=pledge), gbr, note="canary note")
    return head, head + 1


def test_diff_page_shows_changes_and_keeps_restricted_values_to_their_readers(
        sqlite_svc: Service) -> None:  # noqa: F811
    before, after = _gbr_adds_a_restricted_pledge(sqlite_svc)
    url = f"/scenario/diff?from={before}&to={after}"
    for user in ("gbr-planner", "hq-planner"):
        page = _sign_in(sqlite_svc, user).get(url)
        assert page.status_code == 200, page.text
        assert f'data-record="{CANARY_ID}" data-change="added"' in page.text, user
        assert str(CANARY_PEOPLE) in page.text and "personnel_per_unit" in page.text
    fra = _sign_in(sqlite_svc, "fra-planner")
    for a, b in ((before, after), (after, before), (1, after)):
        page = fra.get(f"/scenario/diff?from={a}&to={b}")
        assert page.status_code == 200
        assert CANARY_ID not in page.text and str(CANARY_PEOPLE) not in page.text, (a, b)
        assert 'data-testid="diff-pledges"' not in page.text or a == 1  # only public changes
        assert 'data-testid="diff-partial"' in page.text
    # France's list of revisions withholds the British note and author of that revision
    listing = fra.get("/scenario").text
    row = re.search(rf'<tr data-revision="{after}">(.*?)</tr>', listing, re.S)
    assert row and "canary note" not in row.group(1) and "withheld" in row.group(1)
    assert "canary note" in _sign_in(sqlite_svc, "gbr-planner").get("/scenario").text
    # any two revisions may be chosen; one that does not exist is said so, inline
    bad = fra.get(f"/scenario/diff?from=1&to={after + 50}")
    assert bad.status_code == 422 and 'data-testid="diff-form"' in bad.text
    assert fra.get("/scenario/diff?from=0&to=1").status_code == 422
