"""The dashboard's depot drawings (Q-D map, printable licence document) go through the domain's
depot scope (coalition.depots.queries), not the API's internals: a depot outside the reader's
scope, or none at all, is a 404 page, never a traceback."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.harness import Service, sqlite_svc, svc  # noqa: F401 - fixtures


def _sign_in(svc: Service, user: str) -> TestClient:
    c = svc.client(None)
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    resp = c.post("/login", data={"token": svc.tokens[user], "csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    return c


def test_an_unknown_depot_is_404_not_a_traceback(svc: Service) -> None:
    hq = _sign_in(svc, "hq-planner")
    for path in ("/depots/NO-SUCH/map.svg", "/depots/NO-SUCH/licences.html"):
        assert hq.get(path).status_code == 404
