"""Adapter: the planner's model built once, modified per sample (bounds and costs), solved.

The planner (``coalition.planner``) builds its MIP from tables in one public function,
:func:`coalition.planner.model.build_model`, and solves it through its own phases
(:func:`coalition.planner.solver.solve_highs`: row generation, rounding, restricted MIP).
For thousands of samples that differ only in *which pledges deploy and how many units*, that
pipeline would rebuild tables, model, greedy start and explanations every time. This module is
the analysis' adapter around the planner's public builder:

* the model is built **once** with every pledge of the scenario present ("superset"), each
  active from the activation day of the build's profile (see :func:`profile_key`);
* a sample sets the upper bounds of the stable-named blocks to the units that deploy:
  ``Assign-count`` (x <= units, 0 for a pledge that is not active), ``Pledge-start`` (y <=
  units), the rows ``Pledge-unit-cycle`` (<= units) and ``Pledge-rotation-budget``
  (<= rotations x units). ``Hub-nation-link``'s big-M stays valid because units only shrink.
* the planner's solver form (:func:`coalition.planner.model.flow_form`: ``Pledge-unit-cycle``
  is then a bound on the ``Pledge-busy`` stock) goes to HiGHS once; a sample changes bounds and
  re-runs after
  ``clearSolver`` (the planner's notes record that re-running highspy 1.16 after bound changes
  without clearing can return a stale solution; the equivalence test compares against fresh
  plans).

Equivalence: for the same active set, activation days and units, the model solved here has the
same feasible set and objective as the one :func:`coalition.planner.service.plan_option` builds
for the scenario with those units (tested in ``tests/analysis/test_reuse.py``). A sample whose
activation days differ from the build's (a condition becoming true *after* C-day) changes the
columns themselves (readiness, lateness, departure period), so it gets its own model, cached by
profile (:class:`ModelCache`).

Depends on these names of the planner's :class:`~coalition.planner.model.Model`: blocks
``Assign-count``, ``Pledge-start``, ``Line-shortfall``, rows ``Pledge-unit-cycle``,
``Pledge-rotation-budget``; arrays ``x_arc``, ``u_line``, ``u_period``, ``u_days``,
``y_pledge``; ``tables.arc_pledge``, ``tables.pledge_id``. These are the planner's documented
stable names (docs/planner/model.md).
"""

from __future__ import annotations

import os
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from coalition.planner.model import Model, build_model, flow_form
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables
from coalition.scenario.schemas import Scenario

SHORT_TOL = 1e-6


@dataclass(frozen=True, slots=True)
class SampleSolve:
    """What one solve of one sample gives back (per line-period shortfall and KPIs)."""

    status: str  # "optimal" | "time-limit" | "infeasible" | "error"
    objective: float | None
    shortfall: np.ndarray  # u[l,t] in Line-shortfall order
    solve_seconds: float
    modify_seconds: float


def _quiet_highs():  # pragma: no cover - trivial I/O redirection
    """A Highs instance without its start-up banner (printed by C++ straight to fd 1)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def profile_key(scenario: Scenario, active_from: Mapping[str, int]) -> tuple[int, ...]:
    """Activation days of every pledge (0 for one that is not active): the model's columns
    depend on these, not on which pledges are active or how many units deploy."""
    return tuple(int(active_from.get(p.id, 0)) for p in sorted(scenario.pledges, key=lambda p: p.id))


class ReusableModel:
    """The planner's model of one option, built once, solved for many (active, units) pairs."""

    def __init__(
        self,
        scenario: Scenario,
        option_id: str,
        options: PlanOptions,
        days: Mapping[str, int] | None = None,
    ) -> None:
        import highspy

        t0 = time.perf_counter()
        self.options = options
        all_days = {p.id: int((days or {}).get(p.id, 0)) for p in scenario.pledges}
        self.days = all_days
        tables = build_tables(scenario, option_id, active_from=all_days, options=options)
        m: Model = build_model(tables, options)
        self.model = m
        tb = m.tables
        self.pledge_ids = list(tb.pledge_id)
        self.pledge_ix = {p: i for i, p in enumerate(self.pledge_ids)}
        self.base_units = tb.pledge_units.astype(float)
        xb, yb = m.var("Assign-count"), m.var("Pledge-start")
        self.x_cols = np.arange(xb.start, xb.stop, dtype=np.int32)
        self.x_pledge = tb.arc_pledge[m.x_arc]
        self.y_cols = np.arange(yb.start, yb.stop, dtype=np.int32)
        self.y_pledge = m.y_pledge
        cyc = m.con("Pledge-unit-cycle")
        self.cyc_rows = np.arange(cyc.start, cyc.stop, dtype=np.int32)
        self.cyc_pledge = m.y_pledge if cyc.size else np.zeros(0, np.int64)
        rot = m.con("Pledge-rotation-budget")
        self.rot_rows = np.arange(rot.start, rot.stop, dtype=np.int32)
        rot_keys = m.row_key[list(m.con_blocks).index("Pledge-rotation-budget")] if rot.size else []
        self.rot_pledge = np.asarray(rot_keys, dtype=np.int64)
        self.rot_per_unit = (
            tb.pledge_rotations[self.rot_pledge].astype(float) if rot.size else np.zeros(0)
        )
        ub = m.var("Line-shortfall")
        self.u_slice = slice(ub.start, ub.stop)
        inf = highspy.kHighsInf
        # The planner's solver form (stock-and-flow rows, same feasible set; public in
        # planner.model): measured faster here than the plain matrix on the hard samples.
        ff = flow_form(m)
        self.busy_cols = np.zeros(0, np.int32)
        if "Pledge-busy" in ff.stock_of:
            blk = ff.stock_of["Pledge-busy"][1]
            self.busy_cols = np.arange(blk.start, blk.stop, dtype=np.int32)
        origin = ff.row_origin
        pos = np.full(m.n_rows, -1, dtype=np.int64)
        pos[origin[origin >= 0]] = np.flatnonzero(origin >= 0)
        self.rot_rows = pos[self.rot_rows].astype(np.int32) if self.rot_rows.size else self.rot_rows
        h = _quiet_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", int(options.seed))
        h.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
        lp = highspy.HighsLp()
        A = ff.A
        lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
        lp.col_cost_ = ff.cost
        lp.col_lower_ = ff.clo
        lp.col_upper_ = ff.chi
        lp.row_lower_ = np.where(np.isfinite(ff.lo), ff.lo, -inf)
        lp.row_upper_ = np.where(np.isfinite(ff.hi), ff.hi, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if x else highspy.HighsVarType.kContinuous
            for x in ff.integer
        ]
        h.passModel(lp)
        self.h = h
        self.chi = np.asarray(ff.chi, dtype=float)
        self.row_lo = np.where(np.isfinite(ff.lo), ff.lo, -inf)
        self.build_seconds = time.perf_counter() - t0

    def matches(self, active_from: Mapping[str, int]) -> bool:
        return all(self.days.get(p, 0) == int(d) for p, d in active_from.items())

    def units_vector(self, active_from: Mapping[str, int], units: Mapping[str, int]) -> np.ndarray:
        """Units that deploy per pledge (table order): 0 unless active; ``units`` caps them."""
        out = np.zeros(len(self.pledge_ids))
        for p, i in self.pledge_ix.items():
            if p in active_from:
                out[i] = min(self.base_units[i], float(units.get(p, self.base_units[i])))
        return out

    def solve(
        self, active_from: Mapping[str, int], units: Mapping[str, int], time_limit: float
    ) -> SampleSolve:
        """Solve the model with the given pledges active and the given units deploying."""
        import highspy

        if not self.matches(active_from):
            raise ValueError("activation days differ from the model's profile; use ModelCache")
        t0 = time.perf_counter()
        u = self.units_vector(active_from, units)
        h = self.h
        if self.x_cols.size:
            hi = np.minimum(self.chi[self.x_cols], u[self.x_pledge])
            h.changeColsBounds(int(self.x_cols.size), self.x_cols, np.zeros(hi.size), hi)
        if self.y_cols.size:
            hi = u[self.y_pledge]
            h.changeColsBounds(int(self.y_cols.size), self.y_cols, np.zeros(hi.size), hi)
        if self.busy_cols.size:  # Pledge-unit-cycle: the busy stock of pledge p <= its units
            hi = u[self.cyc_pledge]
            h.changeColsBounds(int(self.busy_cols.size), self.busy_cols, np.zeros(hi.size), hi)
        if self.rot_rows.size:
            hi = self.rot_per_unit * u[self.rot_pledge]
            h.changeRowsBounds(int(self.rot_rows.size), self.rot_rows, self.row_lo[self.rot_rows], hi)
        h.clearSolver()
        h.setOptionValue("time_limit", float(time_limit))
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        S = highspy.HighsModelStatus
        ms = h.getModelStatus()
        info = h.getInfo()
        n_u = self.u_slice.stop - self.u_slice.start
        if info.primal_solution_status != 2:
            return SampleSolve("infeasible" if ms == S.kInfeasible else "error", None,
                               np.full(n_u, np.nan), t2 - t1, t1 - t0)
        vals = np.asarray(h.getSolution().col_value, dtype=float)
        status = "optimal" if ms == S.kOptimal else "time-limit"
        short = np.clip(vals[self.u_slice], 0.0, None)
        return SampleSolve(status, float(info.objective_function_value), short, t2 - t1,
                           (t1 - t0) + (time.perf_counter() - t2))


class ModelCache:
    """Reusable models per activation profile (least recently used first out)."""

    def __init__(self, scenario: Scenario, option_id: str, options: PlanOptions, size: int = 4) -> None:
        self.scenario, self.option_id, self.options, self.size = scenario, option_id, options, size
        self._models: OrderedDict[tuple[int, ...], ReusableModel] = OrderedDict()
        self.builds = 0

    def get(self, active_from: Mapping[str, int]) -> ReusableModel:
        key = profile_key(self.scenario, active_from)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        days = {p.id: d for p, d in zip(sorted(self.scenario.pledges, key=lambda p: p.id), key)}
        rm = ReusableModel(self.scenario, self.option_id, self.options, days)
        self.builds += 1
        self._models[key] = rm
        while len(self._models) > self.size:
            self._models.popitem(last=False)
        return rm
