"""One XLSX workbook holding a whole scenario, and back (openpyxl).

Sheets, in order:

* ``README``: what the workbook is (ignored on import);
* ``scenario``: ``key`` / ``value`` rows for the metadata (``attribution`` repeats, one row per
  item) and the contact line's ``buffer_km``, ``evidence`` and ``source``;
* ``contact_line``: the contact line's points (``lat``, ``lon``), north to south;
* one sheet per table (``nations``, ``instruments``, ... ``corridors``) with the same flat
  columns as the CSV files (see ``coalition.scenario.tables``);
* ``depots``: the depot network as YAML text, one line per row, so nothing is lost.

Dates are written as ISO text (``2026-01-06``), never as Excel dates, so they survive any
locale. Text that starts with ``=`` is stored as text, not as a formula.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from coalition.errors import InputError, Problem, closest
from coalition.scenario import io, yamltext
from coalition.scenario.schemas import Scenario, Sustainment
from coalition.scenario.tables import META_FIELDS, TABLES, columns, to_row

README_SHEET = "README"
META_SHEET = "scenario"
CONTACT_SHEET = "contact_line"
DEPOTS_SHEET = "depots"
SUSTAINMENT_SHEET = "sustainment"
_LIST_META = {"attribution"}


_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")  # every underscore that opens an escape, overlaps too
_UNESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _escape(text: str) -> str:
    """OOXML string escapes: XML turns a carriage return into a newline, so it is written as
    ``_x000D_`` (and a literal ``_xHHHH_`` gets its underscore escaped as ``_x005F_``)."""
    return _ESCAPE.sub("_x005F_", text).replace("\r", "_x000D_")


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1).upper()
        return chr(int(code, 16)) if code in ("000D", "005F") else m.group(0)

    return _UNESCAPE.sub(one, text)


def _put(ws: Any, row: int, col: int, value: Any) -> None:
    if isinstance(value, float) and float(f"{value:.16g}") != value:
        # openpyxl writes numbers with 16 significant digits; keep the exact value as text
        value = repr(value)
    if isinstance(value, str):
        value = _escape(value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula


def _unwritable(scenario: Scenario) -> list[Problem]:
    """Text with control characters that the XLSX format cannot hold (all of them, located)."""
    out: list[Problem] = []

    def scan(value: Any, file: str, row: int | None, field: str) -> None:
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            out.append(
                Problem(
                    "text holds a control character that XLSX cannot store",
                    file=file,
                    row=row,
                    field=field,
                    hint="remove control characters (tab and newline are fine), or export to YAML/JSON",
                )
            )

    for key in ("id", "name", "description"):
        scan(getattr(scenario, key), META_SHEET, None, key)
    for i, text in enumerate(scenario.attribution, start=1):
        scan(text, META_SHEET, i, "attribution")
    if scenario.contact_line is not None:
        scan(scenario.contact_line.source, META_SHEET, None, "contact_line.source")
    for table in TABLES:
        for i, record in enumerate(getattr(scenario, table.name), start=1):
            for col, value in to_row(record).items():
                scan(value, table.name, i, col)
    return out


def _write_readme(wb: Any, scenario: Scenario) -> None:
    readme = wb.active
    if readme is None:  # a new Workbook always has one sheet
        readme = wb.create_sheet()
    readme.title = README_SHEET
    lines = [
        f"coalition scenario '{scenario.id}': {scenario.name}",
        "ILLUSTRATIVE scenario, not an official plan." if scenario.illustrative else "",
        "One sheet per table; columns as in the CSV files (docs/scenario-format.md).",
        "Lists inside a cell are separated by ';'. Empty cell = not given (default).",
        "Evidence: R reported, A approximate, U unknown, I illustrative.",
        "Import back with: coalition import THIS.xlsx FOLDER",
        *scenario.attribution,
    ]
    for i, text in enumerate([t for t in lines if t], start=1):
        _put(readme, i, 1, text)


def _write_meta(wb: Any, scenario: Scenario) -> None:
    """The key/value meta sheet, then the contact line's points on a sheet of their own."""
    meta = wb.create_sheet(META_SHEET)
    _put(meta, 1, 1, "key")
    _put(meta, 1, 2, "value")
    r = 2
    dumped = scenario.model_dump(mode="json")
    for key in META_FIELDS:
        values = dumped[key] if key in _LIST_META else [dumped[key]]
        for value in values:
            _put(meta, r, 1, key)
            _put(meta, r, 2, value)
            r += 1
    if scenario.contact_line is not None:
        for key in ("buffer_km", "evidence", "source"):
            _put(meta, r, 1, f"contact_line.{key}")
            _put(meta, r, 2, dumped["contact_line"][key])
            r += 1
    if scenario.uncertainty is not None:  # the analysis' uncertainty: section, as JSON
        _put(meta, r, 1, "uncertainty")
        _put(meta, r, 2, json.dumps(dumped["uncertainty"], ensure_ascii=False))
        r += 1
    if scenario.contact_line is not None:
        contact = wb.create_sheet(CONTACT_SHEET)
        _put(contact, 1, 1, "lat")
        _put(contact, 1, 2, "lon")
        for i, point in enumerate(scenario.contact_line.points, start=2):
            _put(contact, i, 1, point.lat)
            _put(contact, i, 2, point.lon)


def _write_tables(wb: Any, scenario: Scenario) -> None:
    for table in TABLES:
        ws = wb.create_sheet(table.name)
        cols = columns(table.model)
        for c, name in enumerate(cols, start=1):
            _put(ws, 1, c, name)
            ws.cell(row=1, column=c).font = Font(bold=True)
        for r_i, record in enumerate(getattr(scenario, table.name), start=2):
            row = to_row(record)
            for c, name in enumerate(cols, start=1):
                value = row.get(name)
                if value is not None:
                    _put(ws, r_i, c, value)
        ws.freeze_panes = "A2"


def _write_yaml_sheet(wb: Any, title: str, text: str) -> None:
    ws = wb.create_sheet(title)
    _put(ws, 1, 1, "yaml")
    for i, line in enumerate(text.splitlines(), start=2):
        _put(ws, i, 1, line if line else None)


def _save_atomically(wb: Any, file: Path) -> Path:
    file = Path(file)
    tmp: str | None = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
        os.close(fd)
        wb.save(tmp)
        os.replace(tmp, file)
    except OSError as exc:
        raise InputError(
            [Problem(f"cannot write: {exc.strerror}", file=str(file), hint="give a file in a folder you can write to")]
        ) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return file


def export_workbook(scenario: Scenario, file: Path) -> Path:
    """Write the scenario into one workbook at ``file`` (atomically).

    Raises :class:`InputError` (writing nothing) when some text cannot be stored in XLSX.
    """
    problems = _unwritable(scenario)
    if problems:
        raise InputError(problems)
    wb = Workbook()
    _write_readme(wb, scenario)
    _write_meta(wb, scenario)
    _write_tables(wb, scenario)
    if scenario.depots.model_dump(mode="json", exclude_defaults=True):
        _write_yaml_sheet(wb, DEPOTS_SHEET, yamltext.dump_yaml(scenario.depots.model_dump(mode="json")))
    if scenario.sustainment != Sustainment():  # issue 15: the sustainment data, as YAML text like depots
        _write_yaml_sheet(
            wb,
            SUSTAINMENT_SHEET,
            yamltext.dump_yaml(scenario.sustainment.model_dump(mode="json", exclude_defaults=True)),
        )
    return _save_atomically(wb, file)


def _value(v: Any) -> Any:
    if isinstance(v, str):
        return _unescape(v)
    if isinstance(v, datetime) and v.time() == datetime.min.time():
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(_value(v) for v in row) for row in ws.iter_rows(values_only=True)]


def read_workbook(file: Path) -> io.Loaded:
    """Read a workbook into records, collecting every problem with sheet, row and column."""
    name = Path(file).name
    raw = io._Raw(meta_file=f"{name}:{META_SHEET}")
    raw.files.append(name)
    try:
        wb = load_workbook(file, read_only=True, data_only=True)
    except FileNotFoundError:
        raw.problems.append(Problem("no such file", file=str(file), hint="give an .xlsx file"))
        return io.build(raw)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raw.problems.append(
            Problem(
                f"not a readable XLSX workbook ({type(exc).__name__})",
                file=name,
                hint="save it as an Excel .xlsx workbook",
            )
        )
        return io.build(raw)
    try:
        sheets = set(wb.sheetnames)
        known = {README_SHEET, META_SHEET, CONTACT_SHEET, DEPOTS_SHEET, SUSTAINMENT_SHEET} | {t.name for t in TABLES}
        for sheet in wb.sheetnames:
            if sheet not in known:
                guess = closest(sheet, known)
                raw.problems.append(
                    Problem(
                        f"sheet '{sheet}' is not part of a scenario and was ignored",
                        file=name,
                        hint=f"did you mean '{guess}'?" if guess else None,
                        severity="warning",
                    )
                )
        if META_SHEET not in sheets:
            raw.problems.append(
                Problem(
                    f"no '{META_SHEET}' sheet",
                    file=name,
                    hint="the workbook needs the sheet written by `coalition export`",
                )
            )
        else:
            _read_meta(raw, _rows(wb[META_SHEET]), f"{name}:{META_SHEET}")
        if CONTACT_SHEET in sheets:
            _read_contact(raw, _rows(wb[CONTACT_SHEET]), f"{name}:{CONTACT_SHEET}")
        for table in TABLES:
            if table.name not in sheets:
                continue
            label = f"{name}:{table.name}"
            rows = _rows(wb[table.name])
            if not rows:
                continue
            header = [str(h).strip() if h is not None else "" for h in rows[0]]
            dict_rows = [{h: v for h, v in zip(header, values, strict=False) if h} for values in rows[1:]]
            records, header_problems = io.table_records(table, header, dict_rows, label)
            raw.problems.extend(header_problems)
            raw.tables[table.name] = records
        if DEPOTS_SHEET in sheets:
            lines = [("" if r[0] is None else str(r[0])) for r in _rows(wb[DEPOTS_SHEET])[1:] if r]
            text = "\n".join(lines)
            data, line_map, problems, parsed = yamltext._parse_text(text, f"{name}:{DEPOTS_SHEET}", is_json=False)
            raw.problems.extend(problems)
            if parsed:
                # line n of the YAML text is data row n of the sheet
                raw.depots = ({} if data is None else data, f"{name}:{DEPOTS_SHEET}", line_map)
        if SUSTAINMENT_SHEET in sheets:
            text = "\n".join(("" if r[0] is None else str(r[0])) for r in _rows(wb[SUSTAINMENT_SHEET])[1:] if r)
            data, _lines, problems, parsed = yamltext._parse_text(text, f"{name}:{SUSTAINMENT_SHEET}", is_json=False)
            raw.problems.extend(problems)
            if parsed and data is not None:
                raw.meta["sustainment"] = data
    finally:
        wb.close()
    return io.build(raw)


def _read_meta(raw: io._Raw, rows: list[tuple[Any, ...]], label: str) -> None:
    contact: dict[str, Any] = {}
    for i, row in enumerate(rows[1:], start=1):
        if not row or row[0] is None or str(row[0]).strip() == "":
            continue
        key = str(row[0]).strip()
        value = row[1] if len(row) > 1 else None
        raw.meta_lines[(key,)] = i
        if key.startswith("contact_line."):
            if value is not None:  # empty cell: the default
                contact[key.split(".", 1)[1]] = value
        elif key == "uncertainty" and value is not None:
            try:
                raw.meta[key] = json.loads(str(value))
            except ValueError as exc:
                raw.problems.append(
                    Problem(f"the uncertainty cell is not JSON ({exc})", file=label, row=i, field="value")
                )
        elif key in _LIST_META:
            raw.meta.setdefault(key, [])
            if value is not None:
                raw.meta[key].append(value)
        elif key in META_FIELDS:
            if value is not None:
                raw.meta[key] = str(value) if key in ("id", "name", "description") else value
        else:
            guess = closest(
                key, [*META_FIELDS, "contact_line.buffer_km", "contact_line.evidence", "contact_line.source"]
            )
            raw.problems.append(
                Problem(
                    f"unknown key '{key}'",
                    file=label,
                    row=i,
                    field="key",
                    hint=f"did you mean '{guess}'?" if guess else None,
                )
            )
    if contact:
        raw.meta.setdefault("contact_line", {}).update(contact)


def _read_contact(raw: io._Raw, rows: list[tuple[Any, ...]], label: str) -> None:
    points: list[dict[str, Any]] = []
    for i, row in enumerate(rows[1:], start=1):
        if not row or all(v is None for v in row):
            continue
        lat = row[0] if len(row) > 0 else None
        lon = row[1] if len(row) > 1 else None
        points.append({"lat": lat, "lon": lon})
        raw.meta_lines[("contact_line", "points", len(points) - 1)] = i
    if points:
        raw.meta.setdefault("contact_line", {})["points"] = points
        raw.contact_file = label
