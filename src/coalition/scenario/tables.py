"""The scenario's tables and their flat (CSV / XLSX) form.

A scenario has eleven record lists ("tables"). In YAML or JSON a record keeps the shape of its
pydantic model (nested ``caveats``, an instrument's ``history`` as a list). In a CSV file or an
XLSX sheet a record is one flat row:

* a nested model (``Pledge.caveats``) is spread over its own columns (``allowed_countries``,
  ``allowed_regions``, ``min_distance_km``, ``excluded_roles``);
* a list of plain values (``groups``, ``roles``, ``parties``, ``allowed_countries``...) is one
  cell with the items separated by ``;``;
* an instrument's ``history`` is one cell ``signed=2026-01-06;in-force=2026-03-01``;
* an empty cell means "not given" (the field's default, or ``None``).

Everything here is pure: rows in, typed records or :class:`Problem` records out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from coalition.errors import Problem, closest
from coalition.scenario import schemas as s

LIST_SEP = ";"
HISTORY_SEP = "="


@dataclass(frozen=True, slots=True)
class Table:
    """One record list of :class:`~coalition.scenario.schemas.Scenario`."""

    name: str  # attribute of Scenario, CSV file stem and XLSX sheet name
    model: type[BaseModel]
    key: str  # the identifying field
    csv: bool  # saved as ``<name>.csv`` (True) or inside scenario.yaml (False)

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


TABLES: tuple[Table, ...] = (
    Table("nations", s.Nation, "code", True),
    Table("instruments", s.Instrument, "id", False),
    Table("conditions", s.ConditionDef, "name", False),
    Table("timeline", s.Event, "condition", False),
    Table("capabilities", s.Capability, "code", False),
    Table("force_options", s.ForceOption, "id", False),
    Table("requirements", s.Requirement, "id", True),
    Table("pledges", s.Pledge, "id", True),
    Table("hubs", s.Hub, "id", True),
    Table("rear_nodes", s.RearNode, "id", True),
    Table("corridors", s.Corridor, "id", True),
)
TABLE_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

# Scenario fields that are not tables: kept in scenario.yaml (and the XLSX "scenario" sheet).
META_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "description",
    "illustrative",
    "attribution",
    "horizon_days",
)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a nested (non-list) field, if it is one."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_tuple(annotation: Any) -> bool:
    return get_origin(annotation) is tuple


def _tuple_of_models(annotation: Any) -> type[BaseModel] | None:
    if not _is_tuple(annotation):
        return None
    args = [a for a in get_args(annotation) if a is not Ellipsis]
    inner = args[0] if args else None
    return _nested_model(inner)


PROVENANCE_FIELDS = ("evidence", "source")


@lru_cache(maxsize=64)
def columns(model: type[BaseModel]) -> tuple[str, ...]:
    """The flat column names of a model, in field order (nested models spread in place), with
    the provenance columns (``evidence``, ``source``) last so the id comes first."""
    cols: list[str] = []
    names = [n for n in model.model_fields if n not in PROVENANCE_FIELDS]
    names += [n for n in PROVENANCE_FIELDS if n in model.model_fields]
    for name in names:
        info = model.model_fields[name]
        nested = _nested_model(info.annotation)
        if nested is not None:
            cols.extend(nested.model_fields)
        else:
            cols.append(name)
    return tuple(cols)


def _nested_fields(model: type[BaseModel]) -> dict[str, tuple[str, type[BaseModel]]]:
    """Flat column -> the nested field that holds it and that field's model (e.g.
    min_distance_km -> caveats, Caveats)."""
    out: dict[str, tuple[str, type[BaseModel]]] = {}
    for name, info in model.model_fields.items():
        nested = _nested_model(info.annotation)
        if nested is not None:
            for sub in nested.model_fields:
                out[sub] = (name, nested)
    return out


def _cell(value: Any) -> Any:
    """A plain value as a cell: str, int, float, bool or None."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        parts: list[str] = []
        for item in value:
            if isinstance(item, s.InstrumentStateChange):
                parts.append(f"{item.state.value}{HISTORY_SEP}{item.on.isoformat()}")
            else:
                parts.append(str(_cell(item)))
        return LIST_SEP.join(parts) if parts else None
    if isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a table cell")


def to_row(record: BaseModel) -> dict[str, Any]:
    """A record as one flat row (column -> cell value; None for empty)."""
    row: dict[str, Any] = {}
    for name in type(record).model_fields:
        value = getattr(record, name)
        if isinstance(value, BaseModel):
            for sub in type(value).model_fields:
                row[sub] = _cell(getattr(value, sub))
        else:
            row[name] = _cell(value)
    return row


def _text(value: Any) -> str:
    """A cell read from CSV or XLSX as text (numbers without a spurious '.0')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# The characters pydantic's ``str_strip_whitespace`` removes (Unicode White_Space). Python's
# ``str.strip()`` also removes \x1c-\x1f, which would make a cell differ from its record.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _split(text: str) -> list[str]:
    parts = (p.strip(WHITESPACE) for p in text.split(LIST_SEP))
    return [p for p in parts if p]


def check_header(table: Table, header: list[str], *, file: str) -> tuple[list[Problem], frozenset[str]]:
    """Problems of a header row (a column named twice; required columns missing), and the set
    of missing required columns (so each row does not report them again)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            problems.append(
                Problem(
                    f"column '{name}' appears twice in the header",
                    file=file,
                    field=name,
                    hint="keep one column of each name",
                )
            )
        seen.add(name)
    required = [n for n, info in table.model.model_fields.items() if info.is_required()]
    missing = frozenset(n for n in required if n not in seen)
    for name in sorted(missing):
        problems.append(
            Problem(
                f"required column '{name}' is missing",
                file=file,
                field=name,
                hint="add the column; every row needs a value",
            )
        )
    return problems, missing


@lru_cache(maxsize=64)
def _column_kinds(model: type[BaseModel]) -> dict[str, tuple[str | None, str]]:
    """Column -> (nested field holding it or None, kind: 'history', 'list' or 'scalar')."""
    nested_of = _nested_fields(model)
    out: dict[str, tuple[str | None, str]] = {}
    for col in columns(model):
        parent, holder = nested_of.get(col, (None, model))
        annotation = holder.model_fields[col].annotation
        if _tuple_of_models(annotation) is s.InstrumentStateChange:
            kind = "history"
        elif _is_tuple(annotation):
            kind = "list"
        else:
            kind = "scalar"
        out[col] = (parent, kind)
    return out


def from_row(table: Table, row: dict[str, Any], *, file: str, rownum: int) -> tuple[dict[str, Any], list[Problem]]:
    """A flat row back into the nested mapping its model takes (not yet validated).

    Problems: unknown columns (with the closest known one) and malformed history cells.
    """
    problems: list[Problem] = []
    kinds = _column_kinds(table.model)
    known = kinds.keys()
    data: dict[str, Any] = {}
    for col, raw in row.items():
        if col is None:
            problems.append(
                Problem("more cells than header columns", file=file, row=rownum, hint="quote cells that contain commas")
            )
            continue
        col = col.strip()
        if not col:
            continue
        if col not in known:
            guess = closest(col, list(known))
            problems.append(
                Problem(
                    f"unknown column '{col}'",
                    file=file,
                    row=rownum,
                    field=col,
                    hint=f"did you mean '{guess}'?" if guess else "valid: " + ", ".join(sorted(known)),
                )
            )
            continue
        text = _text(raw).strip(WHITESPACE)
        if text == "":
            continue
        parent, kind = kinds[col]
        value: Any = text
        if kind == "history":
            items = []
            for part in _split(text):
                state, sep, on = part.partition(HISTORY_SEP)
                if not sep:
                    problems.append(
                        Problem(
                            f"bad history entry '{part}'",
                            file=file,
                            row=rownum,
                            field=col,
                            hint="write STATE=YYYY-MM-DD items separated by ';', "
                            "e.g. signed=2026-01-06;in-force=2026-03-01",
                        )
                    )
                    continue
                items.append({"state": state.strip(), "on": on.strip()})
            value = items
        elif kind == "list":
            value = _split(text)
        if parent:
            data.setdefault(parent, {})[col] = value
        else:
            data[col] = value
    return data, problems


# ---------------------------------------------------------------------------------------------
# pydantic errors -> Problems
# ---------------------------------------------------------------------------------------------

_TYPE_HINTS = {
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "bool_parsing": "true or false",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "date_parsing": "a date YYYY-MM-DD",
    "date_from_datetime_inexact": "a date YYYY-MM-DD",
    "date_type": "a date YYYY-MM-DD",
    "missing": "this field is required",
    "extra_forbidden": None,
    "string_too_short": "a non-empty text",
    "string_too_long": "shorten the text",
    "too_short": "give at least the minimum number of items",
}


def _describe_field(model: type[BaseModel], path: tuple[Any, ...]) -> str | None:
    """The description of the field at ``path`` (to say what is valid)."""
    current: Any = model
    info = None
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(str(part))
        if info is None:
            return None
        current = _nested_model(info.annotation) or _tuple_of_models(info.annotation)
    if info is None:
        return None
    desc = info.description
    if not desc:
        for meta in info.metadata:
            desc = getattr(meta, "description", None) or desc
    return desc


def _enum_values(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    current: Any = model
    annotation: Any = None
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        info = current.model_fields.get(str(part))
        if info is None:
            return []
        annotation = info.annotation
        current = _nested_model(annotation) or _tuple_of_models(annotation)
    candidates = [annotation, *get_args(annotation)]
    for cand in candidates:
        if isinstance(cand, type) and issubclass(cand, enum.Enum):
            return [str(m.value) for m in cand]
    return []


def translate(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    file: str | None,
    row_of: Any,
    flat: bool,
    prefix: str = "",
) -> list[Problem]:
    """Every error of a pydantic ``ValidationError`` as a located :class:`Problem`.

    ``row_of(loc)`` gives the row or line of an error location. ``flat`` names fields by their
    CSV column (``allowed_countries``) instead of their nested path (``caveats.allowed_countries``).
    """
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        kind = err.get("type", "")
        named = [p for p in loc if not isinstance(p, int)]
        field = (str(named[-1]) if named else None) if flat else (_dotted(loc, prefix) or None)
        message = str(err.get("msg", "invalid value"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        value = err.get("input")
        hint: str | None = None
        if kind == "enum":
            valid = _enum_values(model, loc)
            guess = closest(str(value), valid) if isinstance(value, str) else None
            hint = f"did you mean '{guess}'?" if guess else None
            message = f"'{_short(value)}' is not valid; valid: " + ", ".join(valid)
        elif kind == "extra_forbidden":
            known = _known_fields(model, loc[:-1])
            guess = closest(str(loc[-1]), known)
            message = f"unknown field '{loc[-1]}'"
            hint = f"did you mean '{guess}'?" if guess else "valid: " + ", ".join(known)
        elif kind == "string_pattern_mismatch":
            desc = _describe_field(model, loc)
            message = f"'{_short(value)}' is not valid"
            hint = f"expected {desc}" if desc else message
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            message = f"{_short(value)!r} is out of range: {message[0].lower()}{message[1:]}"
            ctx = err.get("ctx") or {}
            bound = {
                "greater_than_equal": ("at least", "ge"),
                "less_than_equal": ("at most", "le"),
                "greater_than": ("more than", "gt"),
                "less_than": ("less than", "lt"),
            }[kind]
            desc = _describe_field(model, loc)
            hint = f"{bound[0]} {ctx.get(bound[1])}" + (f" ({desc})" if desc else "")
        elif kind in _TYPE_HINTS:
            hint = _TYPE_HINTS[kind]
            if value is not None and kind != "missing":
                message = f"{_short(value)!r}: {message}"
        problems.append(Problem(message, file=file, row=row_of(loc), field=field, hint=hint))
    return problems


def _short(value: Any, limit: int = 60) -> Any:
    """A value for a message: long text is cut (the field and row already say where it is)."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    if isinstance(value, (list, tuple, dict)) and len(repr(value)) > limit:
        return repr(value)[: limit - 3] + "..."
    return value


def _dotted(loc: tuple[Any, ...], prefix: str) -> str:
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _known_fields(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(str(part)) if hasattr(current, "model_fields") else None
        if info is None:
            return []
        current = _nested_model(info.annotation) or _tuple_of_models(info.annotation)
        if current is None:
            return []
    return sorted(current.model_fields) if hasattr(current, "model_fields") else []
