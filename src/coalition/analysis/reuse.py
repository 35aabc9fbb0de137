"""Adapter: the planner's model built once, modified per world (bounds and columns), solved.

The planner (``coalition.planner``) builds its MIP from tables in one public function,
:func:`coalition.planner.model.build_model`, and solves it with
:func:`coalition.planner.solver.solve_highs` (row generation, LP-guided rounding, restricted
MIP) from the greedy plan of :func:`coalition.planner.greedy.greedy_values`. For thousands of
worlds that differ only in *which pledges deploy and how many units*, rebuilding tables and
model every time is waste. This module is the analysis' adapter around those public functions:

* the model is built **once** with every pledge of the scenario present ("superset"), each
  with the active spells of the build's profile (see :func:`profile_key`);
* per world, :func:`restrict` fixes the ``Assign-count`` columns of pledges that deploy nothing
  at zero and sets the upper bounds of the stable-named blocks to the units that deploy:
  ``Assign-count`` (x <= units), ``Pledge-start`` (y <= units), the rows
  ``Pledge-unit-cycle`` (<= units) and ``Pledge-rotation-budget`` (<= rotations x units).
  ``Hub-nation-link``'s big-M stays valid because units only shrink. Only bounds change, so
  every piece of column metadata the planner keeps (tour days, windows, cycle flows, RIP
  overlaps) stays valid as it is; HiGHS's presolve removes the columns fixed at zero;
* the ``Assign-count`` columns the planner's 10-1-2 rows force to zero in every world
  (``sustain_index["medical"].alive``, :func:`coalition.planner.medical._alive`: units at a hub
  no Role 1/2 care can reach on some day of their stay) are fixed at zero too: no plan and no
  bound changes, the solver just never sees them (63 % of option ``small``'s columns);
* the restricted model goes through the planner's own greedy start and solver, as
  :func:`coalition.planner.engine.make_plan` does for a fresh model. (Measured: solving the
  superset directly with dead columns, or re-running one HiGHS instance after bound changes,
  was slower on the harder worlds than the planner's solver on the restricted model.)

Equivalence: for the same active set, activation days and units, the restricted model has the
same feasible set and objective as the model :func:`coalition.planner.service.plan_option`
builds for the scenario with those units (``tests/analysis/test_reuse.py``). A world whose
activation spells differ from the build's (a condition becoming true *after* C-day, or false
before the horizon ends, an expiry) changes the columns themselves (readiness, lateness,
departure day, the window a tour must fit), so it gets its own model, cached by profile
(:class:`ModelCache`). Likewise the planner's sustainment data (issue 15,
:func:`coalition.planner.sustainment.attach`: 10-1-2 medical blocks and resupply flows): the
resupply tonnage depends on which host-nation-support conditions hold at the world's C-day, so
the cache key holds that data too (:func:`sustain_key`), computed once per set of conditions
holding (:func:`coalition.planner.sustainment.resupply_conditions`), not per C-day; the
medical data does not depend on the world.

Depends on these names of the planner's :class:`~coalition.planner.model.Model` (its documented
stable names, docs/planner/model.md): blocks ``Assign-count``, ``Pledge-start``,
``Line-shortfall``, rows ``Pledge-unit-cycle``, ``Pledge-rotation-budget``; the column metadata
``x_arc``, ``y_pledge``, ``u_line``, ``u_period``, ``u_days``; ``tables.arc_pledge``,
``tables.pledge_id``. If the planner's Model changes shape, this is the one module to adapt.
"""

from __future__ import annotations

import copy
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from coalition.planner import sustainment
from coalition.planner.model import Model, build_model
from coalition.planner.schemas import PlanOptions, Progress
from coalition.planner.tables import PlanningTables, build_tables
from coalition.scenario.schemas import Assumption, Scenario
from coalition.solvers.highs import LpBasis

SHORT_TOL = 1e-6
#: Start each world's solve from the better of the greedy plan and the model's baseline plan
#: (every pledge, all units) repaired to the world (:meth:`ReusableModel.start_plan`).
REPAIRED_START = True
#: Start each Monte Carlo world's first LP from the baseline world's optimal basis
#: (:meth:`ReusableModel.baseline_basis`). Measured on 12 worlds of `small` (LHS seed 7): the LP
#: 0.286 -> 0.143 CPU s per world, the same LP value on every world.
WARM_LP = True
#: Proven solves kept per model for worlds with the same restricted model (0: none). Of 1,000
#: LHS worlds of `small` (seed 1), 833 have distinct units per pledge: the other 167 repeat one.
RESULT_CACHE = 256
#: A stalled search (:class:`TargetStop`): a plan this much better (relative) is progress.
STALL_GAIN = 1e-4
#: Time limit of the baseline solve (at least the per-world limit), seconds.
BASELINE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SampleSolve:
    """What one solve of one sample gives back (per line-period shortfall and KPIs)."""

    status: str  # "optimal" | "time-limit" | "infeasible" | "error"
    objective: float | None
    shortfall: np.ndarray  # u[l,t] in Line-shortfall order
    solve_seconds: float
    modify_seconds: float  # restricting the model and reading the solution
    start_seconds: float = 0.0  # the planner's greedy start plan (warm start)
    gap: float | None = None  # the solver's proven relative gap to its bound
    bound: float | None = None  # the solver's lower bound on the objective
    model: Model | None = None  # the restricted model of the world
    values: np.ndarray | None = None  # its column values (the plan)
    cached: bool = False  # the plan of an earlier world with the same restricted model
    # "solved" | "solved, hint's bound" (the bound is a hint's, higher than the solver's) |
    # "start-proven" (a start within the gap of the hint's bound, nothing solved)
    how: str = "solved"
    start_objective: float | None = None  # the objective of the start plan the solve began from


@dataclass(frozen=True)
class StartHint:
    """What is known of a world before its solve: plans of other worlds of the same model
    (column vectors; repaired to this world, they are candidate starts) and ``floor``, a valid
    lower bound of this world's optimal objective (e.g. by monotonicity, the bound of a world
    with more units), or None."""

    plans: tuple[np.ndarray, ...] = ()
    floor: float | None = None
    stall: float | None = None  # stop a search that found no better plan for this many seconds


class TargetStop:
    """A solver stop test (``solve_highs(should_stop=...)``) fed by its progress reports: stop
    once the best plan reported is within ``gap`` of the higher of the solver's bound and
    ``floor`` (``hit``). Every bound the solver reports is a bound of the full model
    (:meth:`coalition.planner.solver._Solve.on_report`), and ``floor`` must be one too, so such
    a stop means the plan is proven at the gap (the planner itself does not know ``floor``).

    ``stall``: also stop once the best plan has not improved (by more than ``STALL_GAIN``,
    relative) for that many CPU seconds of this process (``clock``; the solver runs one thread
    here, so on a shared machine this is the search's own effort, not the load's)
    (``stalled``): the plan is then not proven, and says so. None or 0: no such stop."""

    def __init__(
        self,
        gap: float,
        floor: float | None,
        stall: float | None = None,
        clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.gap, self.floor = gap, floor
        self.stall = stall if stall is not None and stall > 0 else None
        self.clock = clock
        self.incumbent: float | None = None
        self.bound: float | None = None
        self.hit = False
        self.stalled = False
        self.last_gain = clock()

    def progress(self, p: Progress) -> None:
        if p.incumbent is not None:
            if self.incumbent is None or p.incumbent < self.incumbent - STALL_GAIN * abs(self.incumbent):
                self.last_gain = self.clock()
            self.incumbent = p.incumbent if self.incumbent is None else min(self.incumbent, p.incumbent)
        if p.bound is not None:
            self.bound = p.bound if self.bound is None else max(self.bound, p.bound)

    def __call__(self) -> bool:
        if not self.hit and self.incumbent is not None:
            from coalition.solvers.highs import relative_gap

            bounds = [b for b in (self.bound, self.floor) if b is not None]
            if bounds:
                g = relative_gap(self.incumbent, min(max(bounds), self.incumbent))
                self.hit = g is not None and g <= self.gap
            if self.stall is not None and not self.hit and self.clock() - self.last_gain >= self.stall:
                self.stalled = True
        return self.hit or self.stalled


Spells = Mapping[str, tuple[tuple[int, int | None], ...]]
Profile = tuple[tuple[int, tuple[tuple[int, int | None], ...]], ...]


def _open(day: int) -> tuple[tuple[int, int | None], ...]:
    return ((int(day), None),)


def profile_key(scenario: Scenario, active_from: Mapping[str, int], spells: Spells | None = None) -> Profile:
    """Activation day and active spells of every pledge (day 0, one open spell, for one that is
    not active): the model's columns depend on these, not on which pledges are active or how
    many units deploy."""
    sp = spells or {}
    return tuple(
        (int(active_from.get(p.id, 0)), tuple(sp.get(p.id) or _open(active_from.get(p.id, 0))))
        for p in sorted(scenario.pledges, key=lambda p: p.id)
    )


def assumption_texts(assumptions: Iterable[Assumption]) -> list[str]:
    """The planner's ``NAME=VALUE`` texts of effective assumptions (as
    :func:`coalition.planner.service.plan_option` hands them to the sustainment data)."""
    return [f"{a.condition}={a.on.isoformat() if a.on else str(a.value).lower()}" for a in assumptions]


def sustain_key(sustain: object) -> str:
    """What of the sustainment data differs between worlds: the resupply data (tonnes per
    person-day by capability and hub, under the host-nation conditions holding at C-day). The
    medical data depends only on the scenario's pledges and hubs, the same in every world."""
    res = getattr(sustain, "resupply", None)
    if res is None:
        return ""
    return repr((res.enabled, sorted(res.tonnes.items()), sorted(res.unknown.items()), res.flags))


def restrict(m: Model, keep_x: np.ndarray, chi: np.ndarray, hi: np.ndarray) -> Model:
    """A shallow copy of ``m`` with the ``Assign-count`` columns not in ``keep_x`` fixed at
    zero, column upper bounds ``chi`` and row upper bounds ``hi`` (both in ``m``'s indexing).
    Columns and rows keep their indices, so all of the planner's metadata stays valid."""
    xb = m.var("Assign-count")
    chi = chi.copy()
    chi[xb.start : xb.stop][~keep_x] = 0.0
    r = copy.copy(m)
    r.chi = chi
    r.hi = hi
    return r


def repaired_to(r: Model, plan: np.ndarray) -> np.ndarray | None:
    """``plan`` (a plan of the same model in another world) made a plan of the world of ``r``:
    its assignments cut to ``r``'s column bounds (a withdrawn nation's columns to 0), rows made
    feasible by removing units, completed greedily; None if the result is still infeasible."""
    from coalition.planner.greedy import is_feasible, repair

    assert r.chi is not None
    xb = r.var("Assign-count")
    v = np.zeros(r.n_cols)
    v[xb.start : xb.stop] = np.minimum(plan[xb.start : xb.stop], r.chi[xb.start : xb.stop])
    b = repair(r, v)
    return b if is_feasible(r, b) else None


def _start_proven(
    r: Model, start: np.ndarray, floor: float, target: float, clock: tuple[float, float]
) -> SampleSolve | None:
    """The start as the world's plan when it is within ``target`` of ``floor`` (a valid bound
    of this world found elsewhere): nothing to solve (``how`` "start-proven"); else None."""
    from coalition.solvers.highs import relative_gap

    t0, ts = clock
    obj0 = float(r.cost @ start)
    g0 = relative_gap(obj0, min(floor, obj0))
    if g0 is None or g0 > target:
        return None
    ub = r.var("Line-shortfall")
    short = np.clip(start[ub.start : ub.stop], 0.0, None)
    t1 = time.perf_counter()
    return SampleSolve(
        "optimal",
        obj0,
        short,
        0.0,
        ts - t0,
        t1 - ts,
        g0,
        min(floor, obj0),
        r,
        start,
        how="start-proven",
        start_objective=obj0,
    )


class ReusableModel:
    """The planner's model of one option, built once, solved for many (active, units) pairs.

    Per world: the ``Assign-count`` columns of pledges that do not deploy are dropped
    (:func:`restrict`), the bounds of the rest are the units that deploy, and the restricted
    model goes through the planner's own solver (:func:`coalition.planner.solver.solve_highs`)
    with the planner's greedy plan as a start, exactly as :func:`coalition.planner.engine.make_plan`
    does for a fresh model.
    """

    def __init__(
        self,
        scenario: Scenario,
        option_id: str,
        options: PlanOptions,
        days: Mapping[str, int] | None = None,
        spells: Spells | None = None,
        c_day: date | None = None,
        assumptions: list[str] | None = None,
    ) -> None:
        t0 = time.perf_counter()
        self.options = options
        self.scenario = scenario
        all_days = {p.id: int((days or {}).get(p.id, 0)) for p in scenario.pledges}
        all_spells = {p.id: tuple((spells or {}).get(p.id) or _open(all_days[p.id])) for p in scenario.pledges}
        self.days = all_days
        self.profile = profile_key(scenario, all_days, all_spells)
        tables = build_tables(scenario, option_id, active_from=all_days, options=options, spells=all_spells)
        # the planner's sustainment blocks, as make_plan attaches them (issue 15)
        tables = sustainment.attach(tables, scenario, options, c_day, assumptions)
        self.sustain_key = sustain_key(tables.sustain)
        m: Model = build_model(tables, options)
        self.model = m
        tb = m.tables
        self.pledge_ids = list(tb.pledge_id)
        self.pledge_ix = {p: i for i, p in enumerate(self.pledge_ids)}
        self.base_units = tb.pledge_units.astype(float)
        xb, yb = m.var("Assign-count"), m.var("Pledge-start")
        self.x_cols = np.arange(xb.start, xb.stop, dtype=np.int64)
        self.x_pledge = tb.arc_pledge[m.x_arc]
        self.y_cols = np.arange(yb.start, yb.stop, dtype=np.int64)
        self.y_pledge = m.y_pledge
        cyc = m.con("Pledge-unit-cycle")
        self.cyc_rows = np.arange(cyc.start, cyc.stop, dtype=np.int64)
        # row keys of Pledge-unit-cycle: (pledge, day) per row (one row per departure event)
        cyc_keys = m.row_key[list(m.con_blocks).index("Pledge-unit-cycle")] if cyc.size else None
        self.cyc_pledge = np.asarray(cyc_keys, dtype=np.int64)[:, 0] if cyc_keys is not None else np.zeros(0, np.int64)
        rot = m.con("Pledge-rotation-budget")
        self.rot_rows = np.arange(rot.start, rot.stop, dtype=np.int64)
        rot_keys: np.ndarray | list[int] = (
            m.row_key[list(m.con_blocks).index("Pledge-rotation-budget")] if rot.size else []
        )
        self.rot_pledge = np.asarray(rot_keys, dtype=np.int64)
        self.rot_per_unit = tb.pledge_rotations[self.rot_pledge].astype(float) if rot.size else np.zeros(0)
        assert m.chi is not None and m.hi is not None
        self.chi = np.asarray(m.chi, dtype=float)
        self.row_hi = np.asarray(m.hi, dtype=float)
        med = m.sustain_index.get("medical")
        self.alive = getattr(med, "alive", None)
        self._baseline: tuple[np.ndarray | None, LpBasis | None] | None = None
        # proven solves by (units per pledge, time limit, repaired start), least recent first out
        self._solved: OrderedDict[tuple[bytes, float, bool], SampleSolve] = OrderedDict()
        self.build_seconds = time.perf_counter() - t0

    def matches(self, active_from: Mapping[str, int], spells: Spells | None = None) -> bool:
        """Whether a world's activation has this model's columns: every active pledge with the
        model's activation day and spells (inactive pledges deploy nothing whatever their
        profile)."""
        want = dict(zip((p.id for p in sorted(self.scenario.pledges, key=lambda p: p.id)), self.profile, strict=True))
        sp = spells or {}
        return all(want[p] == (int(d), tuple(sp.get(p) or _open(d))) for p, d in active_from.items())

    def units_vector(self, active_from: Mapping[str, int], units: Mapping[str, int]) -> np.ndarray:
        """Units that deploy per pledge (table order): 0 unless active; ``units`` caps them."""
        out = np.zeros(len(self.pledge_ids))
        for p, i in self.pledge_ix.items():
            if p in active_from:
                out[i] = min(self.base_units[i], float(units.get(p, self.base_units[i])))
        return out

    def restricted(self, active_from: Mapping[str, int], units: Mapping[str, int]) -> Model:
        """The model of one world: columns of pledges that deploy nothing dropped, bounds set."""
        u = self.units_vector(active_from, units)
        chi = self.chi.copy()
        chi[self.x_cols] = np.minimum(chi[self.x_cols], u[self.x_pledge])
        chi[self.y_cols] = u[self.y_pledge]
        hi = self.row_hi.copy()
        hi[self.cyc_rows] = u[self.cyc_pledge]
        if self.rot_rows.size:
            hi[self.rot_rows] = self.rot_per_unit * u[self.rot_pledge]
        keep = u[self.x_pledge] > 0
        if self.alive is not None:  # columns the 10-1-2 rows force to zero in every world
            keep &= self.alive
        return restrict(self.model, keep, chi, hi)

    def baseline_plan(self, time_limit: float) -> np.ndarray | None:
        """The plan of the model's own world with every pledge deploying all its units, solved
        once (the start the worlds' plans are repaired from); None unless proven at the gap."""
        if self._baseline is None:
            full = self.restricted(self.days, {})
            from coalition.planner.greedy import greedy_values, is_feasible
            from coalition.planner.solver import solve_highs

            g = greedy_values(full)
            sol = solve_highs(
                full,
                self.options.model_copy(update={"time_limit": max(time_limit, BASELINE_SECONDS)}),
                start=g if is_feasible(full, g) else None,
                withhold=False,
            )
            ok = sol.values is not None and sol.result.status.value == "optimal"
            self._baseline = (sol.values if ok else None, sol.lp_basis)
        return self._baseline[0]

    def baseline_basis(self, time_limit: float) -> LpBasis | None:
        """The optimal basis of the baseline world's first LP (every capacity row, the
        cohesion links left out, as in every world's first LP): each world's LP differs from it
        only in bounds, so it starts there (:func:`coalition.planner.solver.solve_highs`'s
        ``lp_basis``). The same basis for every world, whatever the order they are solved in."""
        self.baseline_plan(time_limit)
        assert self._baseline is not None
        return self._baseline[1]

    def start_plan(
        self, r: Model, time_limit: float, repaired: bool = True, extra: Sequence[np.ndarray] = ()
    ) -> np.ndarray:
        """The solver's start for a world's model ``r``: the planner's greedy plan, or the
        baseline plan repaired to the world (its assignments cut to the world's columns and
        bounds, rows made feasible by removing units, completed greedily) when that is better.
        Measured on 18 worlds of `small` (LHS seeds 14-16, interleaved A/B): the repaired
        baseline is 1-2 % better than the greedy plan and spares the MIP its slow searches from a
        poor start: 1.36 -> 1.06 CPU s per world, 2 -> 0 worlds at the time limit, plans -0.11 %
        on average (docs/analysis-benchmarks.md).

        ``extra``: more plans (column vectors of this model, e.g. the plans of the worlds
        without a subset of a withdrawn set) repaired to ``r`` the same way; the best feasible
        candidate is the start."""
        from coalition.planner.greedy import greedy_values

        best = greedy_values(r)
        base = self.baseline_plan(time_limit) if (REPAIRED_START and repaired) else None
        for plan in ([base] if base is not None else []) + list(extra):
            b = repaired_to(r, plan)
            if b is not None and float(r.cost @ b) < float(r.cost @ best) - 1e-9:
                best = b
        return best

    def solve(
        self,
        active_from: Mapping[str, int],
        units: Mapping[str, int],
        time_limit: float,
        spells: Spells | None = None,
        repaired: bool = False,
        hint: StartHint | None = None,
    ) -> SampleSolve:
        """Solve the model with the given pledges active and the given units deploying;
        ``repaired``: start from the repaired baseline plan when it beats the greedy one
        (:meth:`start_plan`; the Monte Carlo worlds - a withdrawal analysis solves its baseline
        world anyway, and its first solve would pay for the baseline twice).

        A world whose restricted model is the same as an earlier world's (the same units per
        pledge, so the same bounds; the same limit and start) and whose solve was proven at the
        gap gets that solve's plan again (``cached``), without solving: the solver is
        deterministic, so a second solve would return it too.

        ``hint`` (:class:`StartHint`): more start plans and a valid lower bound of this world's
        objective found elsewhere (the withdrawal analysis: its subsets' plans and bounds)."""
        if not self.matches(active_from, spells):
            raise ValueError("activation spells differ from the model's profile; use ModelCache")
        t0 = time.perf_counter()
        key = (self.units_vector(active_from, units).tobytes(), float(time_limit), bool(repaired))
        hit = self._solved.get(key) if RESULT_CACHE else None
        if hit is not None:
            self._solved.move_to_end(key)
            assert hit.values is not None
            r = self.restricted(active_from, units)
            return replace(
                hit,
                shortfall=hit.shortfall.copy(),
                solve_seconds=0.0,
                start_seconds=0.0,
                modify_seconds=time.perf_counter() - t0,
                model=r,
                values=hit.values.copy(),
                cached=True,
            )
        res = self._solve(active_from, units, time_limit, repaired, t0, hint)
        proven = res.gap is not None and res.gap <= float(self.options.mip_rel_gap) * 1.01
        if RESULT_CACHE and res.status == "optimal" and proven and res.values is not None:
            self._solved[key] = replace(res, model=None, values=res.values.copy(), shortfall=res.shortfall.copy())
            while len(self._solved) > RESULT_CACHE:
                self._solved.popitem(last=False)
        return res

    def _solve(
        self,
        active_from: Mapping[str, int],
        units: Mapping[str, int],
        time_limit: float,
        repaired: bool,
        t0: float,
        hint: StartHint | None = None,
    ) -> SampleSolve:
        """One solve of the world's restricted model (:meth:`solve`). With a ``hint``: the
        start is the best of the usual one and the hint's plans repaired to this world; when it
        is within the target gap of the hint's bound there is nothing to solve (``how``
        "start-proven"); otherwise the solve stops once its best plan is within the gap of the
        higher of its own bound and the hint's (:class:`TargetStop`)."""
        from coalition.planner.engine import recompute
        from coalition.planner.greedy import is_feasible
        from coalition.planner.solver import solve_highs
        from coalition.solvers.highs import relative_gap

        r = self.restricted(active_from, units)
        ts = time.perf_counter()
        extra = hint.plans if hint is not None else ()
        start = self.start_plan(r, time_limit, repaired, extra) if self.options.warm_start else None
        ok = start is not None and is_feasible(r, start)
        target = float(self.options.mip_rel_gap)
        floor = hint.floor if hint is not None else None
        ub = r.var("Line-shortfall")
        if ok and start is not None and floor is not None:
            at_start = _start_proven(r, start, floor, target, (t0, ts))
            if at_start is not None:
                return at_start
        basis = self.baseline_basis(time_limit) if (WARM_LP and repaired) else None
        stop = TargetStop(target, floor, hint.stall) if hint is not None else None
        t1 = time.perf_counter()
        sol = solve_highs(
            r,
            self.options.model_copy(update={"time_limit": time_limit}),
            start=start if ok else None,
            withhold=False,
            lp_basis=basis,
            progress=stop.progress if stop is not None else None,
            should_stop=stop,
        )
        t2 = time.perf_counter()
        values = sol.values
        if values is None and ok and start is not None:
            values = start  # the planner's own fallback: the greedy plan is feasible
        res = sol.result
        gap, bound = res.gap, (res.bound if sol.values is not None else None)
        if values is None:
            return SampleSolve(sol.result.status.value, None, np.full(ub.size, np.nan), t2 - t1, ts - t0, t1 - ts)
        # the plan its assignments define, as `coalition plan` reports it: a time-limited
        # incumbent may carry more shortfall slack or cohesion than its assignments need
        # (engine.recompute), and the objective and gap are of the recomputed plan
        values = recompute(r, values)
        short = np.clip(values[ub.start : ub.stop], 0.0, None)
        status = "optimal" if res.status.value in ("optimal", "feasible") else "time-limit"
        obj = float(r.cost @ values)
        if bound is not None:
            bound = min(bound, obj)
            gap = relative_gap(obj, bound)
        how = "solved"
        if floor is not None and (bound is None or floor > bound):
            bound = min(floor, obj)  # a valid bound of this world found elsewhere, higher
            gap = relative_gap(obj, bound)
            how = "solved, hint's bound"
        proven = gap is not None and gap <= target * 1.01
        if stop is not None and stop.hit and proven:
            status = "optimal"  # stopped by TargetStop: proven at the gap against a valid bound
        elif stop is not None and stop.stalled and not proven and status != "optimal":
            status = "stalled"  # stopped: no better plan for hint.stall seconds, gap above the target
        return SampleSolve(
            status,
            obj,
            short,
            t2 - t1,
            (ts - t0) + (time.perf_counter() - t2),
            t1 - ts,
            gap,
            bound,
            r,
            values,
            how=how,
            start_objective=float(r.cost @ start) if ok and start is not None else None,
        )


class ModelCache:
    """Reusable models per activation profile and sustainment data (least recently used first
    out). ``c_day`` and ``assumptions`` (the planner's ``NAME=VALUE`` texts, see
    :func:`assumption_texts`) are the world's, for the sustainment data."""

    def __init__(self, scenario: Scenario, option_id: str, options: PlanOptions, size: int = 4) -> None:
        self.scenario, self.option_id, self.options, self.size = scenario, option_id, options, size
        self._models: OrderedDict[tuple[Profile, str], ReusableModel] = OrderedDict()
        # sustainment key per resupply conditions (None: resupply off)
        self._sustain: OrderedDict[tuple[tuple[str, bool], ...] | None, str] = OrderedDict()
        self._tables: PlanningTables | None = None  # superset tables (pledge and hub order) for the sustainment key
        self.builds = 0
        self.sustain_builds = 0  # sustainment data computed (once per distinct resupply conditions)

    def _sustain_of(self, c_day: date | None, assumptions: list[str] | None) -> str:
        """The sustainment key of a world, computed once per distinct set of host-nation
        conditions holding at its C-day (:func:`coalition.planner.sustainment.resupply_conditions`,
        all the resupply data takes from a world): worlds with other C-days or assumptions but
        the same conditions share it."""
        holds = sustainment.resupply_conditions(self.scenario, self.options, c_day, list(assumptions or ()))
        ask = None if holds is None else tuple(sorted(holds.items()))
        if ask not in self._sustain:
            if self._tables is None:
                self._tables = build_tables(
                    self.scenario,
                    self.option_id,
                    options=self.options,
                    active_from={p.id: 0 for p in self.scenario.pledges},
                )
            self._sustain[ask] = sustain_key(
                sustainment.attach(self._tables, self.scenario, self.options, c_day, list(assumptions or ())).sustain
            )
            self.sustain_builds += 1
            if len(self._sustain) > 4096:
                self._sustain.popitem(last=False)
        return self._sustain[ask]

    def get(
        self,
        active_from: Mapping[str, int],
        spells: Spells | None = None,
        *,
        c_day: date | None = None,
        assumptions: list[str] | None = None,
    ) -> ReusableModel:
        profile = profile_key(self.scenario, active_from, spells)
        key = (profile, self._sustain_of(c_day, assumptions))
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        ids = [p.id for p in sorted(self.scenario.pledges, key=lambda p: p.id)]
        days = {p: d for p, (d, _s) in zip(ids, profile, strict=True)}
        sp = {p: s for p, (_d, s) in zip(ids, profile, strict=True)}
        rm = ReusableModel(self.scenario, self.option_id, self.options, days, sp, c_day, list(assumptions or ()))
        assert rm.sustain_key == key[1]
        self.builds += 1
        self._models[key] = rm
        while len(self._models) > self.size:
            self._models.popitem(last=False)
        return rm
