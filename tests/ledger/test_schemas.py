"""EVENTS.jsonl parsing (``coalition.ledger.schemas``): bad lines are problems naming the line."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.ledger.schemas import parse_jsonl


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        parse_jsonl('# c\n{"type": ', file="events.jsonl")
    (problem,) = info.value.problems
    assert problem.file == "events.jsonl" and problem.row == 2
    assert "not valid JSON" in problem.message and "column" in problem.message


def test_json_the_decoder_refuses_without_a_position_is_a_problem_not_a_crash() -> None:
    # Python caps int literals at 4300 digits: json.loads raises a plain ValueError (no .msg/.colno)
    line = '{"type": "dispatch", "nation": "FRA", "person": "p", "payload": {"n": ' + "1" * 5000 + "}}"
    with pytest.raises(InputError) as info:
        parse_jsonl(line, file="events.jsonl")
    (problem,) = info.value.problems
    assert problem.row == 1 and "not valid JSON" in problem.message and "4300" in problem.message
