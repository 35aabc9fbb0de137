"""YAML and JSON text: parsing with line numbers, and writing.

* Only ``true``/``false`` are booleans (YAML 1.2 style): YAML 1.1 reads ``on``, ``yes`` and ``no``
  as booleans, which would turn the ``on:`` date key of events into ``True``.
* Parsing keeps a line map (path of every key and list item -> line), so a problem found later
  in a record can name its line; keys given twice in one mapping are reported.
* libyaml is used when PyYAML was built with it (about ten times faster than pure Python).
* Parsing is bounded (:data:`LIMITS`): a document is first read as a stream of parser events
  (libyaml's parser is iterative, so this costs no recursion and stops at the first excess) and
  refused, naming the limit, when it uses an alias or anchor, nests too deep, has too many
  nodes or is too long. Only then is it composed and constructed. Without this, 312 bytes of
  nested aliases ("billion laughs") expand into billions of nodes in whatever walks the data.
  JSON goes through the same check (JSON is YAML), so deep JSON nesting is refused as well.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from coalition.errors import Problem

LineMap = dict[tuple[Any, ...], int]


@dataclass(frozen=True)
class ParseLimits:
    """Bounds on one YAML or JSON document (documented in docs/scenario-files.md)."""

    max_chars: int = 10_000_000  # characters of text (the API's upload limit is lower)
    max_depth: int = 64  # nesting of mappings and lists
    max_nodes: int = 1_000_000  # scalars + mappings + lists
    max_aliases: int = 0  # aliases ("*name") and anchors ("&name") are refused outright


LIMITS = ParseLimits()


def _row_of(event: yaml.Event) -> int | None:
    """The 1-based line an event starts on (None when the parser gave no position)."""
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _limit_problem(file: str, row: int | None, message: str, limit: str, value: int) -> Problem:
    return Problem(
        f"{message} (limit {limit} = {value})",
        file=file,
        row=row,
        field=limit,
        hint="write the values out in full; a scenario needs no anchors, aliases or deep nesting",
    )


def check_limits(text: str, file: str, limits: ParseLimits = LIMITS) -> Problem | None:
    """The first limit the document breaks, or None. Malformed YAML is left to the parser."""
    if len(text) > limits.max_chars:
        return _limit_problem(
            file, None, f"document of {len(text)} characters is too long", "max_chars", limits.max_chars
        )
    loader = _FastLoader(text)
    depth = nodes = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return None
            anchor = event.anchor if isinstance(event, yaml.NodeEvent) else None  # aliases are node events
            if isinstance(event, yaml.AliasEvent) or anchor:
                row = event.start_mark.line + 1 if event.start_mark else None
                kind = "alias" if isinstance(event, yaml.AliasEvent) else "anchor"
                return _limit_problem(
                    file, row, f"YAML {kind} '{anchor}' is not accepted", "max_aliases", limits.max_aliases
                )
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                nodes += 1
                if nodes > limits.max_nodes:
                    return _limit_problem(
                        file, _row_of(event), "document has too many values", "max_nodes", limits.max_nodes
                    )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limits.max_depth:
                    return _limit_problem(
                        file,
                        _row_of(event),
                        f"nesting deeper than {limits.max_depth} levels",
                        "max_depth",
                        limits.max_depth,
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # malformed: the real parse reports it with its line
    finally:
        loader.dispose()


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only true/false. YAML 1.1 reads ``on``/``off``/``yes``/``no``
    as booleans, which would turn the ``on:`` date key of events into ``True``."""


# Dates stay text too: pydantic parses them, so a bad date (2026-02-30) is a located problem
# rather than an exception inside the YAML library.
_DROPPED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _Dumper(yaml.SafeDumper):
    """Writes ``on`` and ``yes``/``no`` without quotes, as our loader reads them as text."""


_Dumper.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
_SPECIAL_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Plain or single-quoted YAML would turn these line breaks into spaces or newlines on
    # reading; double quotes keep them as escapes.
    style = '"' if any(ch in value for ch in _SPECIAL_BREAKS) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


# libyaml (when PyYAML was built with it) parses about ten times faster than pure Python.
# PyYAML defines CSafeLoader only when built with libyaml; its stubs always declare it.
if TYPE_CHECKING:
    _FastBase = yaml.CSafeLoader
else:
    _FastBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastLoader(_FastBase):
    """The same rules as :class:`_Loader` on the libyaml parser."""


_FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


def load_yaml(text: str, file: str = "<text>") -> Any:
    """Parse YAML within :data:`LIMITS` (an :class:`InputError` naming the limit otherwise)."""
    problem = check_limits(text, file)
    if problem is not None:
        from coalition.errors import InputError

        raise InputError([problem])
    return yaml.load(text, Loader=_FastLoader)  # noqa: S506 - a SafeLoader


def _load_with_node(text: str) -> tuple[Any, yaml.Node | None]:
    """Parse once; return the data and the composed node tree (for line numbers)."""
    loader = _FastLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return data, node


def _yaml_problem(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    return Problem(
        f"malformed YAML: {what}",
        file=file,
        row=(mark.line + 1) if mark is not None else None,
        hint="check indentation, ':' after keys and quotes around text with ':' or '#'",
    )


def _line_map(
    node: yaml.Node | None,
    path: tuple[Any, ...] = (),
    out: LineMap | None = None,
    duplicates: list[tuple[tuple[Any, ...], int]] | None = None,
) -> LineMap:
    """Line (1-based) of every key and list item in a composed YAML document; keys that appear
    twice in one mapping are added to ``duplicates`` (YAML loaders silently keep the last)."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen and duplicates is not None:
                duplicates.append((path + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            out[path + (key,)] = key_node.start_mark.line + 1
            _line_map(value_node, path + (key,), out, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), out, duplicates)
    return out


def _parse_text(text: str, file: str, *, is_json: bool) -> tuple[Any, LineMap, list[Problem], bool]:
    """Parse YAML or JSON text; the line map comes from the YAML composer (JSON is YAML).

    Returns (data, line map, problems, parsed): ``parsed`` is False when the text is malformed.
    """
    node: yaml.Node | None = None
    over = check_limits(text.replace("\t", " ") if is_json else text, file)
    if over is not None:
        return None, {}, [over], False
    try:
        if is_json:
            data = json.loads(text)
        else:
            data, node = _load_with_node(text)
    except json.JSONDecodeError as exc:
        return (
            None,
            {},
            [Problem(f"malformed JSON: {exc.msg}", file=file, row=exc.lineno, hint=f"column {exc.colno}")],
            False,
        )
    except yaml.YAMLError as exc:
        return None, {}, [_yaml_problem(exc, file)], False
    except (ValueError, TypeError) as exc:  # a constructor refused a value (e.g. an explicit tag)
        return (
            None,
            {},
            [Problem(f"malformed YAML: {exc}", file=file, hint="quote the value to keep it as text")],
            False,
        )
    duplicates: list[tuple[tuple[Any, ...], int]] = []
    if is_json:
        try:
            # JSON may indent with tabs, which YAML refuses; spaces keep every line number.
            node = yaml.compose(text.replace("\t", " "), Loader=_FastLoader)  # noqa: S506
        except yaml.YAMLError:  # valid JSON that YAML cannot compose: no line numbers
            node = None
    lines = _line_map(node, duplicates=duplicates) if node is not None else {}
    problems = [
        Problem(
            f"key '{path[-1]}' is given twice in the same mapping",
            file=file,
            row=line,
            field=".".join(str(p) for p in path),
            hint="keep one; otherwise the last one would silently win",
        )
        for path, line in duplicates
    ]
    return data, lines, problems, True


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
