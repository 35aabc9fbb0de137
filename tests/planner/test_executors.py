"""Where runs execute: the executor a setting names, and the in-process pool's cancel tokens."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.planner.executors import LocalExecutor, make_executor


def test_local_executor_runs_bounded_and_tokens_are_per_run() -> None:
    ex = make_executor("local", 0)
    assert isinstance(ex, LocalExecutor) and ex.slots == 1  # at least one slot
    try:
        assert ex.submit(pow, 2, 10).result(timeout=10) == 1024
        a, b = ex.cancel_token(1), ex.cancel_token(1)
        a.set()
        assert a.is_set() and not b.is_set()
    finally:
        ex.shutdown()


def test_an_unknown_executor_names_the_setting() -> None:
    with pytest.raises(InputError) as exc:
        make_executor("ray://x", 1)
    assert exc.value.problems[0].field == "COALITION_EXECUTOR"
