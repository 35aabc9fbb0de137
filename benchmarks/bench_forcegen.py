"""Force generation: eligibility matrix, condition evaluation and the gap picture at scale.

The embedded paris-2026 scenario is scaled by copying its pledges and the large option's
requirement lines k times (new ids, same places and conditions). Each figure is compared with a
baseline measured in the same run:

* ``eligibility_matrix`` (numpy, one pledge row at a time) against calling the scalar
  ``eligibility(pledge, line, scenario, hub=...)`` for every cell: same answers, checked;
* activation with one reused ``ConditionEngine`` (memoised per name and date) against a fresh
  engine per pledge;
* the whole gap picture of the large option against the scalar eligibility loop alone.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from coalition.conditions.engine import ConditionEngine, parse_assumptions
from coalition.forcegen.activation import activation, pledge_activation
from coalition.forcegen.eligibility import candidate_hubs, decode, eligibility, eligibility_matrix
from coalition.forcegen.gaps import gap_picture
from coalition.scenario.schemas import Scenario
from coalition.scenario.service import load_scenario

SIZES = (1, 2, 4, 8)
OPTION = "large"
AT_TEXT = "ceasefire=2026-06-01"
RESULTS = Path(__file__).with_name("results") / "forcegen.json"


def scaled(base: Scenario, k: int) -> Scenario:
    pledges = tuple(
        p.model_copy(update={"id": f"{p.id}~{i}"}) for i in range(k) for p in base.pledges
    )
    lines = tuple(
        r.model_copy(update={"id": f"{r.id}~{i}"})
        for i in range(k)
        for r in base.requirements_of(OPTION)
    )
    return base.model_copy(update={"pledges": pledges, "requirements": lines})


def _time(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run() -> dict[str, object]:
    base = load_scenario()
    assumptions = parse_assumptions([AT_TEXT])
    at = assumptions[0].on
    assert at is not None
    rows: list[dict[str, object]] = []
    for k in SIZES:
        s = scaled(base, k)
        lines = s.requirements_of(OPTION)
        cells = sum(len(candidate_hubs(r, s)) for r in lines) * len(s.pledges)

        t_matrix = _time(lambda: eligibility_matrix(s.pledges, lines, s))

        def scalar_loop() -> list[tuple[str, ...]]:
            out = []
            for p in s.pledges:
                for r in lines:
                    for h in candidate_hubs(r, s):
                        out.append(tuple(e.code for e in eligibility(p, r, s, hub=h)))
            return out

        t_scalar = _time(scalar_loop, repeat=1)
        # same answers, cell by cell
        m = eligibility_matrix(s.pledges, lines, s)
        flat = [decode(int(x)) for row in m.reasons for x in row]
        assert flat == scalar_loop(), "matrix and scalar eligibility disagree"

        def reused() -> None:
            activation(s, at, assumptions)

        def fresh() -> None:
            for p in s.pledges:
                pledge_activation(p, at, ConditionEngine(s, assumptions))

        t_act = _time(reused)
        t_act_fresh = _time(fresh, repeat=1)
        t_gaps = _time(lambda: gap_picture(s, OPTION, at, assumptions))
        g = gap_picture(s, OPTION, at, assumptions)
        rows.append(
            {
                "k": k,
                "pledges": len(s.pledges),
                "lines": len(lines),
                "cells": cells,
                "matrix_s": t_matrix,
                "scalar_s": t_scalar,
                "matrix_speedup": t_scalar / t_matrix,
                "activation_s": t_act,
                "activation_fresh_engine_s": t_act_fresh,
                "activation_speedup": t_act_fresh / t_act,
                "gap_picture_s": t_gaps,
                "gap_vs_scalar_loop": t_gaps / t_scalar,
                "fill_rate": round(g.fill_rate, 4),
            }
        )
    head = (
        f"{'k':>2} {'pledges':>7} {'lines':>5} {'cells':>8} | {'matrix':>8} {'scalar':>8} {'x':>6} |"
        f" {'activ.':>8} {'fresh':>8} {'x':>6} | {'gaps':>8} {'/scalar':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['k']:>2} {r['pledges']:>7} {r['lines']:>5} {r['cells']:>8} |"
            f" {r['matrix_s']:>8.4f} {r['scalar_s']:>8.4f} {r['matrix_speedup']:>6.1f} |"
            f" {r['activation_s']:>8.4f} {r['activation_fresh_engine_s']:>8.4f}"
            f" {r['activation_speedup']:>6.1f} | {r['gap_picture_s']:>8.4f} {r['gap_vs_scalar_loop']:>7.2f}"
        )
    result = {
        "benchmark": "forcegen",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "option": OPTION,
        "assumptions": [AT_TEXT],
        "times_in_seconds": "best of 3 (scalar loop and fresh-engine baselines: 1 run)",
        "rows": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    run()
