"""The scenario page: an upload is validated with each problem located (file, row, field) and
nothing stored; a valid file is stored through the store (an import, each change checked by
ownership); the whole document downloads for HQ only."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
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


def test_upload_validates_stores_and_checks_ownership(sqlite_svc: Service, tmp_path: Path) -> None:
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


def test_download_is_hq_only_and_notes_stay_with_their_nation(sqlite_svc: Service) -> None:
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
