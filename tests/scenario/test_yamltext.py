"""coalition.scenario.yamltext: limits before parsing, YAML 1.2 booleans, line maps, duplicate
keys, and clear problems (file, row, field) for malformed text."""

from __future__ import annotations

import pytest

from coalition.errors import InputError
from coalition.scenario.yamltext import (
    ParseLimits,
    _parse_text,
    check_limits,
    dump_yaml,
    load_yaml,
)


def test_an_alias_is_refused_with_its_line() -> None:
    text = "a: &x [1, 2]\nb: *x\n"
    problem = check_limits(text, "s.yaml")
    assert problem is not None
    assert problem.field == "max_aliases" and problem.file == "s.yaml" and problem.row == 1
    with pytest.raises(InputError, match="anchor 'x' is not accepted"):
        load_yaml(text, "s.yaml")


def test_depth_and_node_limits_name_the_limit_and_the_row() -> None:
    deep = "a:\n  b:\n    c:\n      d: 1\n"
    problem = check_limits(deep, "f", ParseLimits(max_depth=2))
    # the third mapping (the value of b, starting at "c:") is one level too deep
    assert problem is not None and problem.field == "max_depth" and problem.row == 3
    assert check_limits(deep, "f", ParseLimits(max_depth=4)) is None  # exactly at the limit passes
    many = "[1, 2, 3, 4]"
    problem = check_limits(many, "f", ParseLimits(max_nodes=4))
    assert problem is not None and problem.field == "max_nodes"
    assert check_limits(many, "f", ParseLimits(max_nodes=5)) is None


def test_a_too_long_document_is_refused_before_parsing() -> None:
    problem = check_limits("x" * 11, "big.yaml", ParseLimits(max_chars=10))
    assert problem is not None and problem.field == "max_chars" and problem.row is None


def test_only_true_and_false_are_booleans() -> None:
    data = load_yaml("on: 2026-06-01\nyes: no\nflag: true\n")
    assert data == {"on": "2026-06-01", "yes": "no", "flag": True}  # dates stay text too


def test_malformed_yaml_and_json_name_file_and_row() -> None:
    data, lines, problems, parsed = _parse_text("a: 1\nb: [1, 2\n", "s.yaml", is_json=False)
    assert not parsed and data is None and lines == {}
    assert len(problems) == 1 and problems[0].file == "s.yaml" and problems[0].row is not None
    assert problems[0].message.startswith("malformed YAML")
    _, _, problems, parsed = _parse_text('{"a": 1,\n "b": }', "s.json", is_json=True)
    assert not parsed and problems[0].row == 2 and "malformed JSON" in problems[0].message


def test_line_map_and_duplicate_keys() -> None:
    text = "a: 1\nitems:\n  - x: 1\n  - x: 2\na: 3\n"
    data, lines, problems, parsed = _parse_text(text, "s.yaml", is_json=False)
    assert parsed and data["a"] == 3  # the loader keeps the last ...
    assert [p.field for p in problems] == ["a"] and problems[0].row == 5  # ... and we say so
    assert lines[("items", 1, "x")] == 4
    assert lines[("items",)] == 2


def test_json_with_tabs_keeps_its_line_numbers() -> None:
    text = '{\n\t"a": 1,\n\t"b": {\n\t\t"c": 2\n\t}\n}'
    data, lines, problems, parsed = _parse_text(text, "s.json", is_json=True)
    assert parsed and not problems and data == {"a": 1, "b": {"c": 2}}
    assert lines[("b", "c")] == 4


def test_dump_round_trips_text_that_looks_like_other_types() -> None:
    data = {"on": "2026-06-01", "yes": "no", "multi": "line one\nline two", "n": 3, "u": "Łódź"}
    assert load_yaml(dump_yaml(data)) == data
