"""Enablers first on M: the same generated instance planned with and without the Precedence-*
blocks, in one run (issue 15). The generator's catalogue has no roles; this gives its
capabilities the doctrinal ones (command, signals, medical, deterrence, training) so the
default rules bite. Run: PYTHONPATH=src python benchmarks/bench_precedence.py [seed] [limit]"""

from __future__ import annotations

import json
import sys
import time

from coalition.planner.check import check_plan
from coalition.planner.generator import generate
from coalition.planner.schemas import PlanOptions
from coalition.planner.service import plan_option

ROLES = {"inf_bn": ("deterrence",), "mech_bn": ("deterrence",), "recce_sqn": ("deterrence",),
         "hq_bde": ("command",), "sig_coy": ("signals",), "med_role2": ("medical",),
         "training_team": ("training",)}


def main(seed: int = 11, limit: float = 60.0) -> None:
    sc = generate("M", seed)
    caps = tuple(c.model_copy(update={"roles": ROLES.get(c.code, c.roles)}) for c in sc.capabilities)
    sc = sc.model_copy(update={"capabilities": caps})
    rows = []
    for on in (False, True):
        t0 = time.perf_counter()
        out, _ = plan_option(sc, "gen", options=PlanOptions(time_limit=limit, precedence=on), explain=False)
        p = out.plan
        rows.append({
            "precedence": on, "total_s": round(time.perf_counter() - t0, 1),
            "variables": p.solve.variables, "constraints": p.solve.constraints, "nonzeros": p.solve.nonzeros,
            "status": p.solve.status.value, "objective": p.solve.objective, "bound": p.solve.bound,
            "gap": p.solve.gap, "coverage_pct": p.kpis.coverage_pct,
            "broken": None if p.precedence is None else len(p.precedence.broken),
            "checker_violations": len(check_plan(sc, p).violations),
        })
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 11, float(sys.argv[2]) if len(sys.argv) > 2 else 60.0)
