"""coalition.api.routers.gaps.get_gaps called directly: the reader's picture as ready JSON, and
problems renamed to the API's fields (the route runs over HTTP in tests/api/test_offload.py and
the resource tests)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from api.harness import Service, sqlite_svc  # noqa: F401 - the fixture
from coalition.api.deps import Ctx
from coalition.api.routers.gaps import get_gaps
from coalition.auth import service
from coalition.errors import InputError


def test_the_picture_is_json_of_the_readers_view_and_problems_name_api_fields(sqlite_svc: Service) -> None:  # noqa: F811
    svc = sqlite_svc
    with svc.db() as db:

        def ctx(user: str) -> Ctx:
            principal = service.authenticate(db, token=svc.tokens[user])
            return Ctx(state=svc.app.state.coalition, request_id=f"g-{user}", principal=principal, db=db)

        resp = get_gaps(ctx("gbr-viewer"), option="small", at=date(2026, 7, 3), assume=["ceasefire=2026-06-01"])
        assert resp.media_type == "application/json"
        body = json.loads(resp.body)
        assert body["option"] == "small" and body["redacted"] is True
        assert [ln["line"] for ln in body["lines"]] == ["R1", "R2"] and "FRA-inf" not in resp.body.decode()
        full = json.loads(
            get_gaps(ctx("hq-admin"), option="small", at=date(2026, 7, 3), assume=["ceasefire=2026-06-01"]).body
        )
        assert full["redacted"] is False
        with pytest.raises(InputError) as err:
            get_gaps(ctx("gbr-viewer"), option="small", at=None, assume=["ceasefire=2026-06-01", "truce=true"])
        assert [p.field for p in err.value.problems] == ["assume[1]"]
        with pytest.raises(InputError) as err:
            get_gaps(ctx("gbr-viewer"), option="smal", at=None, assume=[])
        assert err.value.problems[0].field == "option"
