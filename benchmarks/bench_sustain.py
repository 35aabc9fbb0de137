"""Sustainment benchmark: `sustain` (demand, stock, legal Class V days, medical, precedence, JSON
and tables) on an L-size plan, target <= 5 s, beside a plain-Python day-by-day baseline measured
in the same run (which must give the same figures).

The plan: the planner's L scenario (``generate("L", 0)``: 60 nations, 3,000 units, 120 hubs, 156
weeks) with every requirement line staffed by a simple rotation rule (pledged units of the
capability in turn, one tour after another over the line's window). Planning L with the
optimiser takes ~10 minutes (docs/planner/benchmarks.md), and what `sustain` costs depends on
the number of unit lines, hubs and days, not on the plan's quality. The generated catalogue has
no roles or sustainment data, so the benchmark adds them (illustrative, as in the embedded
scenario): factors for every capability, road and helicopter speeds, Role 2 facilities,
manoeuvre and training roles.

Run with ``make bench`` (or ``python -m benchmarks bench_sustain``). ``COALITION_BENCH_QUICK=1``
uses the M scenario. Results: ``benchmarks/results/sustain.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections import defaultdict
from pathlib import Path

QUICK = os.environ.get("COALITION_BENCH_QUICK") == "1"
RESULTS = Path(__file__).with_name("results") / "sustain.json"
TARGET_S = 5.0


def scenario_and_plan(size: str):  # type: ignore[no-untyped-def]
    from coalition.planner.generator import generate
    from coalition.scenario.schemas import CapabilityFactor, MedicalRole, Speed, SpeedMode, Sustainment
    from coalition.sustain.demand import PlanLine, PlanView

    sc = generate(size, 0)
    roles = {"inf_bn": ("deterrence",), "mech_bn": ("deterrence",), "training_team": ("training",),
             "hq_bde": ("command",), "sig_coy": ("signals",), "med_role2": ("medical",)}
    caps = tuple(c.model_copy(update={"roles": roles.get(c.code, c.roles)}) for c in sc.capabilities)
    factors = tuple(CapabilityFactor(capability=c.code, supply_class=k, per_person_day=v)
                    for c in caps for k, v in (("III(B)", 20.0), ("V", 0.5), ("VIII", 0.1), ("IX", 0.5)))
    sus = Sustainment(factors=factors, speeds=(Speed(mode=SpeedMode.ROAD, kmh=50.0),
                                               Speed(mode=SpeedMode.HELICOPTER, kmh=250.0)),
                      medical_roles=(MedicalRole(capability="med_role2", role=2),
                                     MedicalRole(capability="inf_bn", role=1)))
    sc = sc.model_copy(update={"capabilities": caps, "sustainment": sus})
    by_cap = defaultdict(list)
    for p in sc.pledges:
        by_cap[p.capability].append(p)
    first_hub = {}
    for h in sc.hubs:
        first_hub.setdefault(h.region, h.id)
    lines, used = [], defaultdict(int)
    for r in sc.requirements:
        pool = by_cap.get(r.capability) or []
        if not pool:
            continue
        hub = r.hub or first_hub[r.region]
        for k in range(r.quantity):
            day = max(r.start_day, 0)
            n = 0
            while day <= min(r.end_day, sc.horizon_days - 1):
                p = pool[(used[r.capability]) % len(pool)]
                used[r.capability] += 1
                end = min(day + p.tour_days - 1, r.end_day, sc.horizon_days - 1)
                n += 1
                lines.append(PlanLine(f"{r.id}-{k}-{n}", r.capability, hub, p.personnel_per_unit, day, end, p.id,
                                      p.nation, r.id))
                day = end + 1
    return sc, PlanView(sc.id, "gen", sc.horizon_days, tuple(lines))


def baseline(sc, view):  # type: ignore[no-untyped-def]
    """The obvious implementation: every hub, every day, every unit line present."""
    from coalition.geo import haversine_km
    from coalition.scenario.schemas import SupplyClass
    from coalition.sustain.factors import load_factors, resolve

    table = load_factors()
    T = view.horizon_days
    pos = {h.id: (h.lat, h.lon, h.region) for h in sc.hubs}
    factor = {(c.code, k): resolve(table, sc, c.code, k).value for c in sc.capabilities for k in SupplyClass}
    med = {m.capability: m.role for m in sc.sustainment.medical_roles}
    road = next(s.kmh for s in sc.sustainment.speeds if s.mode.value == "road")
    by_hub = defaultdict(list)
    for ln in view.lines:
        by_hub[ln.hub].append(ln)
    facilities = [ln for ln in view.lines if med.get(ln.capability, 0) >= 2]
    totals = defaultdict(float)
    pd = pd2 = 0.0
    for hub, here in by_hub.items():
        for d in range(T):
            present = [ln for ln in here if ln.arrival_day <= d <= ln.tour_end_day]
            if not present:
                continue
            pers = sum(ln.personnel for ln in present)
            for ln in present:
                for k in SupplyClass:
                    totals[k] += ln.personnel * factor[(ln.capability, k)]
            best = min((0.0 if f.hub == hub else haversine_km(pos[hub][:2], pos[f.hub][:2])
                        * sc.sustainment.road_detour_factor / road * 60.0
                        for f in facilities if f.arrival_day <= d <= f.tour_end_day), default=float("inf"))
            pd += pers
            pd2 += pers if best <= 120.0 else 0.0
    return dict(totals), pd2 / pd if pd else None


def end_to_end(sc, view) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """`coalition sustain -s FOLDER --option gen --plan FILE --json OUT` in-process: loading and
    validating the scenario folder, reading the plan JSON, the report, writing the JSON."""
    import tempfile
    from dataclasses import asdict

    from typer.testing import CliRunner

    from coalition.cli.main import app
    from coalition.scenario.service import save_scenario

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sc"
        save_scenario(sc, folder)
        plan = Path(tmp) / "plan.json"
        plan.write_text(json.dumps({"option": "gen", "horizon_days": view.horizon_days,
                                    "unit_lines": [asdict(ln) for ln in view.lines]}))
        t, c = time.perf_counter(), time.process_time()
        r = CliRunner().invoke(app, ["sustain", "-s", str(folder), "--option", "gen", "--plan", str(plan),
                                     "--json", str(Path(tmp) / "out.json")])
        took, cpu = time.perf_counter() - t, time.process_time() - c
        if r.exit_code != 0:
            raise RuntimeError(r.output)
    return took, cpu


def run() -> dict:  # type: ignore[type-arg]
    from coalition.scenario.schemas import SupplyClass
    from coalition.sustain.report import report_tables
    from coalition.sustain.service import build_report

    size = "M" if QUICK else "L"
    t0 = time.perf_counter()
    sc, view = scenario_and_plan(size)
    setup = time.perf_counter() - t0
    runs, cpu = [], []
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        rep = build_report(sc, view)
        j = rep.to_json()
        report_tables(rep, j)
        runs.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    sustain_s = statistics.median(runs)
    cli_s, cli_cpu = end_to_end(sc, view)
    t, c = time.perf_counter(), time.process_time()
    totals, share2 = baseline(sc, view)
    base_s, base_cpu = time.perf_counter() - t, time.process_time() - c
    mine = defaultdict(float)
    for r in rep.ranges:
        for k in SupplyClass:
            mine[k] += (r.demand[k].per_day or 0.0) * r.days
    agree = all(abs(mine[k] - totals[k]) <= 1e-6 * max(1.0, totals[k]) for k in SupplyClass) and (
        share2 is None or abs(j["medical"]["share_within_2h"] - share2) < 1e-3)
    out = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "size": size,
        "unit_lines": len(view.lines),
        "hubs": len({ln.hub for ln in view.lines}),
        "horizon_days": view.horizon_days,
        "hub_ranges": len(rep.ranges),
        "setup_seconds": round(setup, 2),
        "sustain_seconds_median_of_5": round(sustain_s, 3),
        "sustain_seconds_runs": [round(x, 3) for x in runs],
        "sustain_cpu_seconds_median_of_5": round(statistics.median(cpu), 3),
        "cli_end_to_end_seconds": round(cli_s, 3),
        "cli_end_to_end_cpu_seconds": round(cli_cpu, 3),
        "baseline_day_by_day_seconds": round(base_s, 3),
        "baseline_cpu_seconds": round(base_cpu, 3),
        "speedup_vs_baseline": round(base_s / sustain_s, 1) if sustain_s else None,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "same_figures_as_baseline": agree,
        "share_within_2h": j["medical"]["share_within_2h"],
        "target_seconds": TARGET_S,
        # wall time on a shared 2-core machine carries the other processes' load (load_average_1min);
        # CPU time of this process is the figure that does not
        "target_met_wall": sustain_s <= TARGET_S and cli_s <= TARGET_S,
        "target_met_cpu": statistics.median(cpu) <= TARGET_S and cli_cpu <= TARGET_S,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    run()
