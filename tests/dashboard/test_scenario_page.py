"""The scenario page: an upload is validated with each problem located (file, row, field) and
nothing stored; a valid file is stored through the store (an import, each change checked by
ownership); the whole document downloads for HQ only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from coalition.dashboard.i18n import Lang
from coalition.dashboard.scenario_page import (
    MEDIA,
    _located,
    by_severity,
    newest_first,
    range_problems,
    refused_upload,
    store_refusal,
)
from coalition.errors import ConflictError, InputError, PermissionDeniedError, Problem
from coalition.scenario import store
from coalition.scenario.service import save_scenario_file


def _sign_in(svc: Service, user: str) -> tuple[TestClient, str]:
    c = TestClient(svc.app, base_url="https://testserver", headers={"Accept": "text/html"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    c.post("/login", data={"token": svc.tokens[user], "csrf": csrf})
    page = c.get("/scenario").text
    return c, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _document(svc: Service, tmp_path: Path) -> dict:
    with svc.db() as db:
        _sid, _rev, state = store.current_state(db, ref=None)
    path = save_scenario_file(state.scenario, tmp_path / "scenario.json")
    return json.loads(path.read_text("utf-8"))


def _post(c: TestClient, csrf: str, doc: dict, *, store_it: bool, revision: int = 0,
          name: str = "mine.json"):  # type: ignore[no-untyped-def]
    body = json.dumps(doc).encode()
    data = {"csrf": csrf, "revision": str(revision)} | ({"store": "yes"} if store_it else {})
    return c.post("/scenario/upload", data=data, files={"file": (name, body, "application/json")})


def _head(svc: Service) -> int:
    with svc.db() as db:
        return store.current_state(db, ref=None)[1]


def test_upload_validates_stores_and_checks_ownership(sqlite_svc: Service, tmp_path: Path) -> None:  # noqa: F811
    c, csrf = _sign_in(sqlite_svc, "gbr-planner")
    doc = _document(sqlite_svc, tmp_path)
    head = _head(sqlite_svc)
    gbr = next(p for p in doc["pledges"] if p["nation"] == "GBR")
    bad = {**doc, "pledges": [{**p, "units": -3} if p is gbr else p for p in doc["pledges"]]}
    resp = _post(c, csrf, bad, store_it=True, revision=head)
    assert resp.status_code == 422
    table = re.search(r'data-testid="problems">(.*?)</table>', resp.text, re.S).group(1)
    assert "mine.json" in table and "units" in table and "nothing was stored" in resp.text
    assert _head(sqlite_svc) == head
    # A valid change to its own pledge: validated only, then stored as an import.
    good = {**doc, "pledges": [{**p, "units": p["units"] + 1} if p is gbr else p
                               for p in doc["pledges"]]}
    resp = _post(c, csrf, good, store_it=False, revision=head)
    assert resp.status_code == 200 and 'data-testid="valid"' in resp.text
    assert _head(sqlite_svc) == head
    resp = _post(c, csrf, good, store_it=True, revision=head)
    assert resp.status_code == 200 and f"as revision {head + 1}" in resp.text
    # Changing France's pledge is refused as a whole; nothing is stored.
    fra = next(p for p in good["pledges"] if p["nation"] == "FRA")
    theirs = {**good, "pledges": [{**p, "units": 9} if p is fra else p for p in good["pledges"]]}
    resp = _post(c, csrf, theirs, store_it=True, revision=head + 1)
    assert resp.status_code == 422 and "FRA" in resp.text
    assert _head(sqlite_svc) == head + 1
    # A stale revision is a conflict, shown on the page.
    resp = _post(c, csrf, good | {"name": "renamed"}, store_it=True, revision=head)
    assert resp.status_code == 409
    # Not a scenario file at all.
    resp = c.post("/scenario/upload", data={"csrf": csrf},
                  files={"file": ("notes.txt", b"hello", "text/plain")})
    assert resp.status_code == 422 and "notes.txt" in resp.text


def test_download_is_hq_only_and_notes_stay_with_their_nation(sqlite_svc: Service) -> None:  # noqa: F811
    c, _csrf = _sign_in(sqlite_svc, "gbr-planner")
    assert c.get("/scenario/download.yaml").status_code == 403
    hq, _ = _sign_in(sqlite_svc, "hq-admin")
    resp = hq.get("/scenario/download.yaml")
    assert resp.status_code == 200 and "pledges:" in resp.text
    assert hq.get("/scenario/download.xlsx").content[:2] == b"PK"
    # A French revision note is not shown to the British planner.
    fra = sqlite_svc.client("fra-planner")
    assert fra.post("/api/pledges/FRA-inf/transition",
                    json={"state": "withdrawn", "note": "secret French reason"}).status_code == 200
    assert "secret French reason" not in c.get("/scenario").text
    assert "secret French reason" in hq.get("/scenario").text


# --- the page's logic, called directly ------------------------------------------------------

EN, FR = Lang("en").gettext, Lang("fr").gettext


def test_a_problem_is_located_by_file_row_and_field() -> None:
    p = Problem("units must be positive", file="pledges.csv", row=4, field="units", hint="1 or more")
    assert _located(p) == {"file": "pledges.csv", "row": 4, "field": "units", "message": "units must be positive",
                           "hint": "1 or more", "severity": "error"}
    bare = _located(Problem("horizon is long", severity="warning"))
    assert bare == {"file": "", "row": None, "field": "", "message": "horizon is long", "hint": "",
                    "severity": "warning"}


@pytest.mark.parametrize("name", ["s.yaml", "s.YML", "s.json", "Scenario.Xlsx"])
def test_a_scenario_file_within_the_limit_is_read(name: str) -> None:
    assert refused_upload(name, 10, 10, EN) is None


def test_another_kind_of_file_or_a_file_over_the_limit_is_refused_unread() -> None:
    code, (problem,) = refused_upload("notes.txt", 1, 10, EN)
    assert code == 422 and (problem["file"], problem["field"]) == ("notes.txt", "file")
    assert problem["message"] == "'notes.txt' is not a .yaml, .yml, .json or .xlsx file."
    code, (problem,) = refused_upload("big.json", 11, 10, FR)
    assert code == 413 and problem["message"] == "Le fichier dépasse 10 octets." and problem["file"] == "big.json"
    code, _p = refused_upload("big.csv", 11, 10, EN)
    assert code == 422  # the kind first


def test_a_report_splits_into_errors_and_warnings_in_order() -> None:
    report = [Problem("a", row=1), Problem("b", severity="warning"), Problem("c", row=3), Problem("d", severity="info")]
    errors, warnings = by_severity(iter(report))  # read once
    assert [e["message"] for e in errors] == ["a", "c"] and [e["row"] for e in errors] == [1, 3]
    assert [w["message"] for w in warnings] == ["b", "d"]


def test_a_store_refusal_is_409_for_a_conflict_and_422_else_each_problem_located() -> None:
    code, located = store_refusal(ConflictError("revision 3 is not the head (4)"), "mine.json")
    assert code == 409 and located == [_located(Problem("revision 3 is not the head (4)", file="mine.json"))]
    code, located = store_refusal(InputError([Problem("FRA's pledge", file="doc", row=7, field="units")]), "mine.json")
    assert code == 422 and (located[0]["file"], located[0]["row"], located[0]["field"]) == ("doc", 7, "units")
    code, located = store_refusal(PermissionDeniedError("only FRA changes it"), "m.yaml")
    assert code == 422 and located[0]["message"] == "only FRA changes it" and located[0]["file"] == "m.yaml"


def test_revisions_are_shown_newest_first_with_their_time() -> None:
    rows = [{"revision": 1, "created_at": "2026-01-02T03:04:05+00:00"}, {"revision": 2, "created_at": None}]
    shown = newest_first(iter(rows))
    assert [r["revision"] for r in shown] == [2, 1]
    assert shown[0]["at"] is None and shown[1]["at"].isoformat() == "2026-01-02T03:04:05+00:00"
    assert "at" not in rows[0]  # the history's rows are not changed


def test_a_range_past_the_head_names_each_end() -> None:
    assert range_problems(5, 1, 5, EN) == []
    assert range_problems(5, 6, 9, EN) == [
        "There is no revision 6 of this scenario (revisions are 1 to 5). (from)",
        "There is no revision 9 of this scenario (revisions are 1 to 5). (to)",
    ]
    assert range_problems(2, 1, 3, FR) == ["Ce scénario n’a pas de révision 3 (les révisions vont de 1 à 2). (to)"]


def test_the_download_kinds_and_their_media_types() -> None:
    assert MEDIA == {"yaml": "application/yaml",
                     "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
