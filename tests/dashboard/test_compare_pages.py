"""The plan comparison pages its changed lines (200 a page): every change of
``planner.workbook.compare`` is reachable through the ``rel=next`` links, once."""

from __future__ import annotations

import re

from api.harness import Service, sqlite_svc  # noqa: F401 - fixtures
from api.test_plans import wait_done
from coalition.auth.schemas import HQ, Principal, Role
from coalition.planner import runs
from coalition.planner.workbook import compare
from coalition.scenario import store
from dashboard.test_i18n import _sign_in


def _big_run(svc: Service, real: int, n: int) -> int:
    """A finished run whose plan is the real one's lines repeated as ``n`` new lines."""
    hq = Principal(user_id=None, name="bench", nation=HQ, roles=frozenset({Role.PLANNER}))
    with svc.db() as db:
        plan = runs.result_of(db, runs.get_run(db, real))
        lines = [
            {**u, "uln": f"B{i:05d}", "unit": f"{u['unit']}~{i}"}
            for i, u in zip(range(n), plan["unit_lines"] * (n // len(plan["unit_lines"]) + 1))
        ]
        sid, rev, _state = store.current_state(db, ref=None)
        job, _r = runs.queue_run(
            db,
            principal=hq,
            request=runs.RunRequest(
                scenario_id=sid,
                revision=rev,
                option="small",
                at=None,
                assumptions=["pages=test"],
                seed=7,
                options={"time_limit": 5.0},
            ),
        )
        db.add(runs.PlanRunResult(run_id=job.id, plan={**plan, "unit_lines": lines}))
        job.status, job.progress, job.message = "done", 1.0, "done"
        db.flush()
        return int(job.id)


def test_every_changed_line_is_reachable_through_the_pages(sqlite_svc: Service) -> None:  # noqa: F811
    resp = sqlite_svc.client("hq-planner").post(
        "/api/plans", json={"option": "small", "time_limit": 10, "assumptions": ["ceasefire=2026-06-01"]}
    )
    real = int(resp.json()["id"])
    assert wait_done(sqlite_svc, "hq-planner", real)["status"] == "done"
    big = _big_run(sqlite_svc, real, 450)
    with sqlite_svc.db() as db:
        want = len(
            compare(runs.result_of(db, runs.get_run(db, real)), runs.result_of(db, runs.get_run(db, big))).changes
        )
    assert want > 400
    c = _sign_in(sqlite_svc, "hq-planner")
    url, seen, pages = f"/plans/compare?a={real}&b={big}", [], 0
    while url:
        page = c.get(url.replace("&amp;", "&"))
        assert page.status_code == 200
        rows = re.findall(r'<tr data-change="(\w+)"><td>([^<]*)</td><td>([^<]*)</td>', page.text)
        assert len(rows) <= 200
        seen += rows
        pages += 1
        nxt = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = nxt.group(1) if nxt else ""
    assert pages == -(-want // 200) and len(seen) == want == len(set(seen))
