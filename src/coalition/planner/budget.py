"""The time budget of one solve: the deadline of each phase and a log of what each was given.

Every phase of :func:`coalition.planner.solver.solve_highs` (the LP, a master LP, a RENS or RINS
sub-MIP, a polish, the full MIP...) is given a deadline (``until``, a ``time.perf_counter()``
value) by :meth:`PhaseLog.until`, which is never later than the solve's own deadline less the
time kept back for what follows (``reserve``) and :data:`LATENCY_FACTOR` times the largest
overrun seen so far in this solve (:attr:`PhaseLog.latency`: how long a phase ran past its
deadline - HiGHS finishing its current step after it was told to stop, or a step that cannot be
interrupted). Each phase is run inside :meth:`PhaseLog.phase`, which records its name, when it
started, the deadline it was given and when it ended (seconds after the solve started): the
solve's message names the phases that ended after their deadline, and tests read the records
(``Solution.phases``) to check, without timing anything, that no phase was given a deadline past
the solve's (docs/planner/solver.md, *Time budget*).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# Later phases keep back this many times the largest overrun seen so far in the solve: one
# late return is the best estimate of the next (measured on M under load: HiGHS returned up to
# ~6 s after its limit), and twice it leaves room for the phase after it.
LATENCY_FACTOR = 2.0
# A phase that ended within this much of its deadline is not "late" (the clock is read a few
# instructions after the stop test).
LATE_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class PhaseRecord:
    """One phase of a solve: seconds after the solve started."""

    name: str
    start: float
    until: float  # the deadline it was given
    end: float

    @property
    def late(self) -> float:
        """Seconds it ran past its deadline (0 when it ended in time)."""
        return max(0.0, self.end - max(self.until, self.start))


@dataclass(slots=True)
class PhaseLog:
    """The phases of one solve and the deadline arithmetic. ``t0`` and ``deadline`` are
    ``time.perf_counter()`` values: the solve's start and the time by which it must be done."""

    t0: float = 0.0
    deadline: float = float("inf")
    records: list[PhaseRecord] = field(default_factory=list)
    latency: float = 0.0  # the largest overrun past a deadline seen so far

    def until(self, seconds: float | None = None, reserve: float = 0.0) -> float:
        """The deadline of a phase that may use at most ``seconds`` (None: no cap of its own):
        never after the solve's deadline less ``reserve`` and the latency reserve."""
        end = self.deadline - max(0.0, reserve) - LATENCY_FACTOR * self.latency
        if seconds is not None:
            end = min(end, time.perf_counter() + max(0.0, seconds))
        return end

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left for a phase started now (see :meth:`until`)."""
        return self.until(None, reserve) - time.perf_counter()

    @contextmanager
    def phase(self, name: str, until: float) -> Iterator[None]:
        """Record the phase run inside the block; ``until`` is the deadline it was given (it
        must stop by then itself: this only records, and learns the latency from it)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            end = time.perf_counter()
            rec = PhaseRecord(name, start - self.t0, until - self.t0, end - self.t0)
            self.records.append(rec)
            if rec.late > LATE_TOLERANCE:
                self.latency = max(self.latency, rec.late)

    def late(self) -> list[PhaseRecord]:
        """The phases that ended after their deadline (beyond :data:`LATE_TOLERANCE`)."""
        return [r for r in self.records if r.late > LATE_TOLERANCE]

    def summary(self) -> str:
        """For the solve's message: the phases that ran past their deadline, or ''."""
        late = self.late()
        if not late:
            return ""
        worst = sorted(late, key=lambda r: -r.late)[:3]
        return "phases past their deadline: " + ", ".join(f"{r.name} +{r.late:.1f} s" for r in worst)
