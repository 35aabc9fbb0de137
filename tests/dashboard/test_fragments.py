"""The cached Gantt fragment: drawn once per plan object and language, never served for another
plan object (another reader's view of the same run is another object), and the same SVG as the
page drew before the cache."""

from __future__ import annotations

import copy

from coalition.dashboard import fragments
from coalition.dashboard.i18n import Lang
from coalition.dashboard.page import TEMPLATES


def _plan(nation: str) -> dict:
    line = {"uln": "A0001", "nation": nation, "unit": "u1", "capability": "inf_bn", "hub": "H1",
            "requirement": "R1", "arrival_day": 3, "tour_start_day": 5, "tour_end_day": 90,
            "required_day": 1, "days_late": 2, "rotation": 1}
    return {"unit_lines": [line, {**line, "uln": "A0002", "tour_start_day": 90,
                                  "arrival_day": 88, "tour_end_day": 180, "days_late": 0}]}


def test_same_plan_object_is_a_hit_another_object_is_drawn_for_itself() -> None:
    en = Lang("en")
    plan = _plan("GBR")
    m1, svg1 = fragments.gantt(TEMPLATES, en.template_globals(), plan, 7, 365, "en")
    m2, svg2 = fragments.gantt(TEMPLATES, en.template_globals(), plan, 7, 365, "en")
    assert svg2 is svg1 and m2 is m1
    assert svg1.count('class="bar"') == 2 and 'data-uln="A0002"' in svg1
    assert "/plan?job=7&amp;q=A0001#lines" in svg1
    other = copy.deepcopy(plan)  # e.g. another reader's view: equal content, another object
    other["unit_lines"][0]["nation"] = "FRA"
    _m3, svg3 = fragments.gantt(TEMPLATES, en.template_globals(), other, 7, 365, "en")
    assert svg3 is not svg1 and "FRA" in svg3 and "FRA" not in svg1


def test_the_language_is_part_of_the_key() -> None:
    plan = _plan("GBR")
    _m, en = fragments.gantt(TEMPLATES, Lang("en").template_globals(), plan, 8, 365, "en")
    _m, fr = fragments.gantt(TEMPLATES, Lang("fr").template_globals(), plan, 8, 365, "fr")
    assert en is not fr and "Gantt chart of unit lines" in en and "Gantt chart of unit lines" not in fr
