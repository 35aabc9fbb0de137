"""coalition.planner.budget: the deadline arithmetic of a solve's phases, on a clock the test
moves by hand (no wall time is measured or asserted)."""

from __future__ import annotations

import time

import pytest

from coalition.planner import budget
from coalition.planner.budget import PhaseLog


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    c = _Clock()
    monkeypatch.setattr(time, "perf_counter", c)
    return c


def test_a_phase_never_gets_a_deadline_past_the_solve_less_its_reserve(clock: _Clock) -> None:
    log = PhaseLog(t0=100.0, deadline=160.0)
    assert log.until() == 160.0
    assert log.until(10.0) == 110.0  # its own cap first
    assert log.until(100.0) == 160.0  # never past the solve's deadline
    assert log.until(100.0, reserve=5.0) == 155.0
    assert log.left(reserve=5.0) == 55.0
    clock.now = 158.0
    assert log.left(reserve=5.0) == -3.0  # nothing left: the caller does not start


def test_a_late_phase_is_recorded_and_later_phases_keep_twice_its_overrun_back(clock: _Clock) -> None:
    log = PhaseLog(t0=100.0, deadline=160.0)
    with log.phase("rins-0", until=log.until(10.0)):
        clock.now = 113.0  # returned 3 s after its deadline of 110
    with log.phase("polish", until=log.until()):
        clock.now = 114.0
    rins, pol = log.records
    assert (rins.name, rins.start, rins.until, rins.end) == ("rins-0", 0.0, 10.0, 13.0)
    assert rins.late == pytest.approx(3.0) and pol.late == 0.0
    assert log.latency == pytest.approx(3.0)
    assert log.until() == pytest.approx(160.0 - budget.LATENCY_FACTOR * 3.0)
    assert [r.name for r in log.late()] == ["rins-0"]
    assert "rins-0 +3.0 s" in log.summary()


def test_a_phase_that_raised_is_still_recorded(clock: _Clock) -> None:
    log = PhaseLog(t0=100.0, deadline=160.0)
    with pytest.raises(RuntimeError), log.phase("master-1", until=120.0):
        clock.now = 125.0
        raise RuntimeError("boom")
    assert log.records[0].late == pytest.approx(5.0) and log.latency == pytest.approx(5.0)


def test_ending_within_the_tolerance_is_not_late(clock: _Clock) -> None:
    log = PhaseLog(t0=100.0, deadline=160.0)
    with log.phase("lp-0", until=110.0):
        clock.now = 110.0 + budget.LATE_TOLERANCE / 2
    assert log.late() == [] and log.latency == 0.0 and log.summary() == ""
