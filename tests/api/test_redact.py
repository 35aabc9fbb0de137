"""Redaction of aggregates (pure): another nation's pledge detail never leaks."""

from __future__ import annotations

import json

from coalition.api.redact import RESTRICTED, redact_plan, scrub_ids


def test_plan_redaction() -> None:
    plan = {
        "unit_lines": [{"uln": "1", "nation": "GBR", "pledge": "GBR-1", "unit": "GBR-1#1", "hub": "A"},
                       {"uln": "2", "nation": "FRA", "pledge": "FRA-1", "unit": "FRA-1#1", "hub": "A"}],
        "assignments": [{"uln": "1", "pledge": "GBR-1", "why": "closest",
                         "alternatives": [{"pledge": "FRA-1", "nation": "FRA", "why_not": "FRA-1 later", "code": "x"}]},
                        {"uln": "2", "pledge": "FRA-1", "why": "only", "alternatives": []}],
        "rotations": [{"nation": "GBR"}, {"nation": "FRA"}],
        "active_pledges": ["GBR-1", "FRA-1"], "inactive_pledges": [],
        "gaps": [{"requirement": "R", "reasons": [{"code": "caveat", "message": "pledge FRA-1 excluded"}]}],
        "warnings": ["FRA-1 is late"], "fill": [{"hub": "A", "required": 1, "filled": 1}],
    }
    out = redact_plan(plan, visible_pledges={"GBR-1"}, hidden_pledges={"FRA-1"},
                      visible_nations={"GBR"})
    assert "FRA-1" not in json.dumps(out)
    assert out["unit_lines"][1]["nation"] == RESTRICTED and out["unit_lines"][1]["hub"] == "A"
    assert [a["uln"] for a in out["assignments"]] == ["1"]
    assert out["rotations"] == [{"nation": "GBR"}]
    assert out["fill"] == plan["fill"]  # aggregates stay
    hq = redact_plan(plan, visible_pledges={"GBR-1", "FRA-1"}, hidden_pledges=set(),
                     visible_nations=None)
    assert hq["unit_lines"] == plan["unit_lines"] and len(hq["rotations"]) == 2


def test_scrub_ids_whole_words_only() -> None:
    assert scrub_ids("pledges 'FRA-1', FRA-10 short", {"FRA-1"}) == f"pledges '{RESTRICTED}', FRA-10 short"
