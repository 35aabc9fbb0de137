"""Terminal rendering of a plan (Rich). Pure: returns renderables, prints nothing itself."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from coalition.planner.schemas import Plan, Progress


def _day(plan: Plan, day: int, when: date | None) -> str:
    rel = f"C{day:+d}"
    return f"{rel} {when.isoformat()}" if when is not None else rel


def progress_table(option: str, p: Progress | None, limit: float) -> Table:
    t = Table(title=f"HiGHS solving option '{option}' (time limit {limit:g} s)", expand=False)
    # the bound shown is always a bound of the full model (see docs/planner/solver.md)
    for c in ("time s", "incumbent", "bound (full model)", "valid gap", "nodes"):
        t.add_column(c, justify="right")
    if p is None:
        t.add_row("…", "building / presolve", "", "", "")
    else:
        t.add_row(
            f"{p.time:.1f}",
            "—" if p.incumbent is None else f"{p.incumbent:,.1f}",
            "—" if p.bound is None else f"{p.bound:,.1f}",
            "—" if p.gap is None else f"{100 * p.gap:.2f}%",
            str(p.nodes),
        )
    return t


def summary(plan: Plan) -> RenderableType:
    s, k = plan.solve, plan.kpis
    lines = Text()
    status = s.status.value + (" — BEST PLAN SO FAR" if s.best_so_far else "")
    lines.append(f"Option {plan.option}   solver {s.solver}: {status}\n", style="bold")
    obj = "—" if s.objective is None else f"{s.objective:,.1f}"
    bound = (
        (
            "— (no bound of the full model"
            + (f"; {s.phase_out_of_time} phase out of time" if s.phase_out_of_time else "")
            + ")"
        )
        if s.bound is None
        else f"{s.bound:,.1f} ({s.bound_provenance})"
    )
    gap = "—" if s.gap is None else f"{100 * s.gap:.3f}%"
    lines.append(
        f"objective {obj}   bound {bound}   gap {gap}   build {s.build_seconds:.2f} s   "
        f"solve {s.solve_seconds:.2f} s   model {s.variables:,} vars × {s.constraints:,} rows\n"
    )
    if plan.baseline:
        b = plan.baseline
        lines.append(
            f"greedy baseline: objective {b.objective:,.1f}, coverage {b.coverage_pct:.1f}%, "
            f"shortfall {b.shortfall_unit_days:,.0f} unit-days\n"
        )
    cday = plan.c_day.isoformat() if plan.c_day else "unknown"
    tag = " (ILLUSTRATIVE assumption)" if plan.c_day_assumed else ""
    lines.append(f"C-day {cday}{tag}; periods of {plan.period_days} d; horizon {plan.horizon_days} d\n")
    lines.append(
        f"coverage {k.coverage_pct:.1f}% (essential {k.essential_coverage_pct:.1f}%)   "
        f"shortfall {k.shortfall_unit_periods:,.1f} unit-periods = {k.shortfall_unit_days:,.0f} "
        f"unit-days   late {k.late_unit_days:,.0f} unit-days\n"
    )
    close = "—" if k.days_to_close is None else f"C+{k.days_to_close}"
    ratio = "—" if k.generation_ratio is None else f"{k.generation_ratio:.2f}:1"
    lines.append(
        f"force closes {close}   peak deployed {k.units_deployed_peak} units / "
        f"{k.personnel_deployed_peak:,} personnel   generation ratio (total:deployed) {ratio}   "
        f"nations per hub {k.nations_per_hub_avg:.1f}"
    )
    lines.append(_sustainment_line(plan))
    parts: list[RenderableType] = [lines]
    for w in plan.warnings:
        parts.append(Text(f"⚠ {w}", style="yellow"))
    return Panel(Group(*parts), title=f"Plan: {plan.scenario} / {plan.option}", expand=False)


def _sustainment_line(plan: Plan) -> str:
    """10-1-2 and resupply in one line each (issue 15)."""
    out = ""
    med = plan.medical
    if med is not None:

        def pct(v: float | None) -> str:
            return "—" if v is None else f"{100 * v:.1f}%"

        n = sum(1 for u in med.get("uncovered", []) if u.get("constrained"))
        rule = "hard constraint" if med.get("enforced") else "NOT enforced"
        out += (
            f"\nmedical 10-1-2 ({rule}): personnel-days within 1 h of Role 1 {pct(med.get('share_within_1h'))}, "
            f"within 2 h of Role 2 {pct(med.get('share_within_2h'))}; manoeuvre/training ranges uncovered: {n}"
        )
    res = plan.resupply
    if res is not None:
        peak = max((f["tonnes_per_day"] for f in res.get("flows", [])), default=0.0)
        out += (
            f"\nresupply in the corridors: {len(res.get('flows', []))} flow(s), largest {peak:,.1f} t/day; "
            f"unmet {res.get('unmet_tonne_days', 0):,.1f} tonne-days ({len(res.get('unmet', []))} hub-segment(s))"
        )
    return out


def unit_lines(plan: Plan, limit: int = 20) -> Table:
    t = Table(title=f"Unit lines (TPFDD-like), {len(plan.unit_lines)} in all", expand=False)
    for c in (
        "ULN",
        "nation",
        "unit",
        "capability",
        "from",
        "corridor",
        "hub",
        "ready",
        "departure",
        "arrival",
        "required",
        "late d",
        "rot",
    ):
        t.add_column(c, no_wrap=True, min_width=len(c) if c != "ULN" else 8)
    for u in plan.unit_lines[:limit]:
        t.add_row(
            u.uln,
            u.nation,
            u.unit,
            u.capability,
            u.rear_node,
            u.corridor,
            u.hub,
            f"C{u.ready_day:+d}",
            f"C{u.departure_day:+d}",
            _day(plan, u.arrival_day, u.arrival_date),
            _day(plan, u.required_day, u.required_date),
            str(u.days_late),
            str(u.rotation),
        )
    if len(plan.unit_lines) > limit:
        t.caption = f"… {len(plan.unit_lines) - limit} more unit lines in the exported files"
    return t


def rotations(plan: Plan, limit: int = 40) -> Table:
    t = Table(title="Rotations per nation (generation ratio = units pledged : average deployed)")
    for c in ("nation", "year", "units", "tours", "avg deployed", "peak", "ratio"):
        t.add_column(c, justify="right" if c != "nation" else "left")
    rows = [r for r in plan.rotations if r.tours_started or r.avg_deployed]
    for r in rows[:limit]:
        t.add_row(
            r.nation,
            str(r.year),
            str(r.units_pledged),
            str(r.tours_started),
            f"{r.avg_deployed:.1f}",
            str(r.peak_deployed),
            "—" if r.generation_ratio is None else f"{r.generation_ratio:.1f}:1",
        )
    if len(rows) > limit:
        t.caption = f"… {len(rows) - limit} more rows in the exported files"
    return t


def fill(plan: Plan, columns: int = 8, limit: int = 30) -> Table:
    """Fill by capability × place, periods grouped into at most ``columns`` time buckets."""
    periods = sorted({c.period for c in plan.fill})
    if not periods:
        return Table(title="Fill: no requirement lines in the horizon")
    per = max(1, -(-len(periods) // columns))
    buckets = [periods[i : i + per] for i in range(0, len(periods), per)]
    t = Table(title="Fill by capability × place (filled / required unit-periods)")
    t.add_column("capability @ place", no_wrap=True)
    for b in buckets:
        t.add_column(f"C+{b[0] * plan.period_days}", justify="right")
    cells: dict[tuple[str, str], dict[int, tuple[int, int]]] = defaultdict(dict)
    for c in plan.fill:
        cells[(c.capability, c.hub)][c.period] = (c.filled, c.required)
    for n, ((cap, place), by_t) in enumerate(sorted(cells.items())):
        if n >= limit:
            t.caption = f"… {len(cells) - limit} more rows in the exported files"
            break
        row = [f"{cap} @ {place}"]
        for b in buckets:
            got = sum(by_t.get(p, (0, 0))[0] for p in b)
            need = sum(by_t.get(p, (0, 0))[1] for p in b)
            if need == 0:
                row.append("")
                continue
            style = "green" if got >= need else ("yellow" if got else "red")
            row.append(f"[{style}]{got}/{need}[/]")
        t.add_row(*row)
    return t


def gaps(plan: Plan, limit: int = 25) -> Table:
    t = Table(title=f"Gaps and late lines with what binds ({len(plan.gaps)} lines)")
    for c in ("line", "capability @ place", "prio", "short u-days", "late u-days", "binding (stable name) — why"):
        t.add_column(c)
    for g in plan.gaps[:limit]:
        why = "\n".join(f"{r.constraint or r.code}: {r.message}" for r in g.reasons[:3]) + (
            f"\n(+{len(g.reasons) - 3} more)" if len(g.reasons) > 3 else ""
        )
        t.add_row(
            g.requirement,
            f"{g.capability} @ {g.place}",
            g.priority,
            f"{g.shortfall_unit_days:,.0f}",
            f"{g.late_unit_days:,.0f}",
            why,
        )
    if len(plan.gaps) > limit:
        t.caption = f"… {len(plan.gaps) - limit} more in the gap report"
    return t


def assignments(plan: Plan, limit: int = 5) -> Table:
    t = Table(title="Why these units (first assignments; all in the exported files)")
    t.add_column("ULN")
    t.add_column("why this unit")
    t.add_column("alternatives and why not")
    for a in plan.assignments[:limit]:
        alts = "\n".join(f"{x.pledge}: {x.why_not}" for x in a.alternatives) or "none eligible"
        t.add_row(a.uln, a.why, alts)
    return t


def full(plan: Plan, *, unit_limit: int = 20) -> list[RenderableType]:
    return [summary(plan), unit_lines(plan, unit_limit), rotations(plan), fill(plan), gaps(plan), assignments(plan)]
