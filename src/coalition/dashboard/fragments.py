"""Rendered page fragments kept between requests: the Gantt of a plan view.

The Gantt of a 1,000-line plan is a thousand linked bars; laying it out and rendering it took
most of the plan page's server time, on every view of every table page. A plan view is the
cached object :func:`coalition.planner.visible.visible_plan` returns for one run and one reader
view (it never changes), so its Gantt, in one language, is rendered once and kept while that
object is cached: the key holds the plan object itself and a hit must be that same object, so a
reader's Gantt is never served for another view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from markupsafe import Markup

from coalition.dashboard import views

_SIZE = 32
_GANTTS: OrderedDict[tuple[int, int, str], tuple[object, views.Gantt, Markup]] = OrderedDict()
_LOCK = threading.Lock()


def gantt(
    templates: Any, globals_: dict[str, Any], plan: dict[str, Any], job_id: int, horizon_days: int, lang: str
) -> tuple[views.Gantt, Markup]:
    """The Gantt model and its SVG for ``plan`` (rendered with ``globals_``: the page's gettext
    and formatters), from the cache when the same plan object was drawn before in ``lang``."""
    key = (id(plan), job_id, lang)
    with _LOCK:
        hit = _GANTTS.get(key)
        if hit is not None and hit[0] is plan:
            _GANTTS.move_to_end(key)
            return hit[1], hit[2]
    model = views.gantt(plan["unit_lines"], horizon_days)
    svg = Markup(templates.get_template("_gantt.html").render({**globals_, "gantt": model, "job_id": job_id}))
    with _LOCK:
        _GANTTS[key] = (plan, model, svg)
        while len(_GANTTS) > _SIZE:
            _GANTTS.popitem(last=False)
    return model, svg


__all__ = ["gantt"]
