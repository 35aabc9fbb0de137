"""Reading and writing scenario files.

Two forms, one model (see ``docs/scenario-format.md``):

* a **folder**: ``scenario.yaml`` (metadata, contact line and any table written inline) plus one
  CSV file per long table (``nations.csv``, ``pledges.csv``, ``hubs.csv``, ``rear_nodes.csv``,
  ``requirements.csv``, ``corridors.csv``; any other table may also be a CSV) and an optional
  ``depots.yaml``;
* a **single file** ``*.yaml`` / ``*.yml`` / ``*.json`` holding the whole scenario in the shape
  of :class:`~coalition.scenario.schemas.Scenario` (``coalition schema`` prints it).

Reading never stops at the first problem: every record is validated on its own, every problem
is collected with its file, row (or line) and field, and the caller decides (see ``service``).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from coalition.depots.schemas import DepotNetwork
from coalition.errors import InputError, Problem, closest
from coalition.scenario.schemas import ContactLine, Scenario, Sustainment
from coalition.scenario.tables import (
    META_FIELDS,
    TABLE_BY_NAME,
    TABLES,
    Table,
    check_header,
    columns,
    from_row,
    to_row,
    translate,
)
from coalition.scenario.yamltext import LineMap as LineMap  # `X as X`: re-exported for callers
from coalition.scenario.yamltext import _parse_text
from coalition.scenario.yamltext import dump_yaml as dump_yaml
from coalition.scenario.yamltext import load_yaml as load_yaml

SCENARIO_FILE = "scenario.yaml"
DEPOTS_FILE = "depots.yaml"
SINGLE_FILE_SUFFIXES = (".yaml", ".yml", ".json")


# ---------------------------------------------------------------------------------------------
# Where each record came from
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """The place of one record: a CSV/XLSX row, or a mapping inside a YAML/JSON file."""

    file: str
    row: int | None  # data row (CSV/XLSX) or line (YAML/JSON)
    flat: bool = False  # True: fields are CSV columns
    path: tuple[Any, ...] = ()  # YAML path of the record, e.g. ("pledges", 3)
    lines: LineMap | None = None  # YAML line of each path

    def row_of(self, loc: tuple[Any, ...] = ()) -> int | None:
        if self.flat or not self.lines:
            return self.row
        full = self.path + tuple(loc)
        while full:
            if full in self.lines:
                return self.lines[full]
            full = full[:-1]
        return self.row

    def field_name(self, field_path: tuple[Any, ...]) -> str | None:
        """How to name a field: its CSV column, or its dotted YAML path."""
        if self.flat:
            return str(field_path[-1]) if field_path else None
        text = ""
        for part in self.path + tuple(field_path):
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
        return text or None


class Locator:
    """Maps (table, index in the Scenario's tuple, field) to file, row and field name."""

    def __init__(self, origins: dict[str, list[Origin]] | None = None) -> None:
        self.origins = origins or {}

    def at(self, table: str, index: int, *field_path: Any) -> dict[str, Any]:
        found = self.origins.get(table)
        if found is None or index >= len(found):
            # a Scenario built in code: name the table, the 1-based record and the column
            names = [str(p) for p in field_path if not isinstance(p, int)]
            return {"file": table, "row": index + 1, "field": names[-1] if names else None}
        origin = found[index]
        return {
            "file": origin.file,
            "row": origin.row_of(tuple(field_path)),
            "field": origin.field_name(tuple(field_path)),
        }


@dataclass
class Loaded:
    """The outcome of reading: records that validated, where they came from, and problems."""

    scenario: Scenario | None
    locator: Locator
    problems: list[Problem] = field(default_factory=list)
    broken_keys: dict[str, set[str]] = field(default_factory=dict)  # ids of rows that failed
    files: list[str] = field(default_factory=list)
    # Rows that failed field validation, with the fields that did validate, so that their
    # references can still be checked (``model_construct``: not valid records, never returned).
    partial: Scenario | None = None
    partial_locator: Locator = field(default_factory=Locator)
    depots_origin: Origin | None = None  # where the depot network came from
    depots_raw: Any = None  # the depot network's raw mapping when it failed validation


def _read_text(path: Path, file: str, *, newline: str | None = None) -> tuple[str | None, list[Problem]]:
    """The text of a file; ``newline=""`` keeps line endings as they are (CSV cells)."""
    try:
        with path.open(encoding="utf-8-sig", newline=newline) as fh:
            return fh.read(), []
    except UnicodeDecodeError as exc:
        return None, [
            Problem(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file, hint="save the file as UTF-8")
        ]
    except OSError as exc:
        return None, [Problem(f"cannot read: {exc.strerror}", file=file)]


# ---------------------------------------------------------------------------------------------
# Raw sources -> records
# ---------------------------------------------------------------------------------------------


@dataclass
class _RawRecord:
    data: Any
    origin: Origin
    problems: list[Problem] = field(default_factory=list)
    missing_columns: frozenset[str] = frozenset()  # reported once for the header


@dataclass
class _Raw:
    meta: dict[str, Any] = field(default_factory=dict)
    meta_file: str = SCENARIO_FILE
    meta_lines: LineMap = field(default_factory=dict)
    contact_file: str | None = None  # where contact-line points come from, if not meta_file
    tables: dict[str, list[_RawRecord]] = field(default_factory=dict)
    depots: tuple[Any, str, LineMap] | None = None
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # tables whose file could not be parsed


def _records_from_mapping(raw: _Raw, data: dict[str, Any], file: str, lines: LineMap) -> None:
    """Split a Scenario-shaped mapping into metadata and table records."""
    for key, value in data.items():
        if key in TABLE_BY_NAME:
            if value is None:
                value = []
            if not isinstance(value, list):
                raw.problems.append(
                    Problem(f"'{key}' must be a list of records", file=file, row=lines.get((key,)), field=key)
                )
                continue
            raw.tables[key] = [
                _RawRecord(item, Origin(file, lines.get((key, i)), False, (key, i), lines))
                for i, item in enumerate(value)
            ]
        elif key == "depots":
            raw.depots = (value, file, {k[1:]: v for k, v in lines.items() if k[:1] == ("depots",)})
        else:
            raw.meta[key] = value
    raw.meta_file = file
    raw.meta_lines = lines


def _read_csv_rows(path: Path, file: str) -> tuple[list[str] | None, list[dict[str, Any]], list[Problem]]:
    text, problems = _read_text(path, file, newline="")
    if text is None:
        return None, [], problems
    # strict: a stray or unclosed quote is an error rather than a silently merged cell
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=None, strict=True)
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error as exc:
        return (
            None,
            [],
            [
                Problem(
                    f"malformed CSV: {exc}",
                    file=file,
                    row=len(rows) + 1,
                    hint=f"check the quotes near line {reader.line_num} of the file: a cell that contains "
                    "a comma, quote or line break must be in double quotes, with inner quotes doubled",
                )
            ],
        )
    if reader.fieldnames is None:
        return None, [], []
    return [str(h).strip() for h in reader.fieldnames], rows, []


def table_records(
    table: Table, header: list[str], rows: list[dict[str, Any]], file: str
) -> tuple[list[_RawRecord], list[Problem]]:
    """Flat rows (CSV or a sheet) into raw records, with the header's own problems."""
    problems, missing = check_header(table, header, file=file)
    out: list[_RawRecord] = []
    for i, row in enumerate(rows, start=1):
        if all((v is None or str(v).strip() == "") for k, v in row.items() if k is not None) and None not in row:
            continue  # blank line
        data, row_problems = from_row(table, row, file=file, rownum=i)
        out.append(_RawRecord(data, Origin(file, i, True), row_problems, missing))
    return out, problems


def read_csv_table(table: Table, path: Path, file: str) -> tuple[list[_RawRecord], list[Problem]]:
    header, rows, problems = _read_csv_rows(path, file)
    if header is None:
        return [], problems
    records, header_problems = table_records(table, header, rows, file)
    return records, problems + header_problems


def _read_folder(folder: Path) -> _Raw:
    raw = _Raw()
    meta_path = folder / SCENARIO_FILE
    if not meta_path.is_file():
        raw.problems.append(
            Problem(
                f"no {SCENARIO_FILE} in the folder",
                file=str(folder),
                hint="a scenario folder needs scenario.yaml; `coalition scenario init DIR` writes one",
            )
        )
        return raw
    raw.files.append(SCENARIO_FILE)
    text, problems = _read_text(meta_path, SCENARIO_FILE)
    raw.problems.extend(problems)
    if text is None:
        return raw
    data, lines, problems, parsed = _parse_text(text, SCENARIO_FILE, is_json=False)
    raw.problems.extend(problems)
    if not parsed:
        return raw
    if not isinstance(data, dict):
        raw.problems.append(Problem("scenario.yaml must be a mapping of keys to values", file=SCENARIO_FILE, row=1))
        return raw
    _records_from_mapping(raw, data, SCENARIO_FILE, lines)

    for table in TABLES:
        path = folder / table.filename
        if not path.is_file():
            continue
        raw.files.append(table.filename)
        if table.name in raw.tables:
            raw.problems.append(
                Problem(
                    f"'{table.name}' is given twice: in {SCENARIO_FILE} and in {table.filename}",
                    file=table.filename,
                    hint=f"keep one: delete the '{table.name}:' list or the CSV file",
                )
            )
            continue
        records, problems = read_csv_table(table, path, table.filename)
        raw.problems.extend(problems)
        if any(p.message.startswith(("malformed CSV", "not UTF-8", "cannot read")) for p in problems):
            raw.unreadable.add(table.name)
        raw.tables[table.name] = records

    # Other files may live beside the tables (e.g. a sample consignment); only a CSV whose name
    # looks like a misspelt table is worth a warning.
    stems = {t.name for t in TABLES}
    for path in sorted(folder.glob("*.csv")):
        guess = closest(path.stem, stems) if path.stem not in stems else None
        if guess:
            raw.problems.append(
                Problem(
                    f"CSV file '{path.name}' is not a scenario table and was ignored",
                    file=path.name,
                    hint=f"did you mean '{guess}.csv'?",
                    severity="warning",
                )
            )

    depots_path = folder / DEPOTS_FILE
    if depots_path.is_file():
        raw.files.append(DEPOTS_FILE)
        if raw.depots is not None:
            raw.problems.append(
                Problem(
                    f"depots are given twice: in {SCENARIO_FILE} and in {DEPOTS_FILE}",
                    file=DEPOTS_FILE,
                    hint="keep one",
                )
            )
        else:
            text, problems = _read_text(depots_path, DEPOTS_FILE)
            raw.problems.extend(problems)
            if text is not None:
                data, lines, problems, parsed = _parse_text(text, DEPOTS_FILE, is_json=False)
                raw.problems.extend(problems)
                if parsed:
                    raw.depots = ({} if data is None else data, DEPOTS_FILE, lines)
    return raw


def _read_single(path: Path) -> _Raw:
    raw = _Raw()
    file = path.name
    raw.files.append(file)
    text, problems = _read_text(path, file)
    raw.problems.extend(problems)
    if text is None:
        return raw
    data, lines, problems, parsed = _parse_text(text, file, is_json=path.suffix.lower() == ".json")
    raw.problems.extend(problems)
    if not parsed:
        return raw
    if not isinstance(data, dict):
        raw.problems.append(
            Problem(
                "the scenario file must hold one mapping (the Scenario)",
                file=file,
                row=1,
                hint="see `coalition schema`",
            )
        )
        return raw
    _records_from_mapping(raw, data, file, lines)
    return raw


def read_raw(path: Path) -> _Raw:
    """Read a folder or single file into raw records (not yet validated)."""
    if path.is_dir():
        return _read_folder(path)
    if path.is_file():
        if path.suffix.lower() not in SINGLE_FILE_SUFFIXES:
            raw = _Raw()
            raw.problems.append(
                Problem(
                    f"unknown scenario file type '{path.suffix}'",
                    file=path.name,
                    hint="give a folder with scenario.yaml, or a .yaml/.yml/.json/.xlsx file",
                )
            )
            return raw
        return _read_single(path)
    raw = _Raw()
    raw.problems.append(
        Problem("no such file or folder", file=str(path), hint="give a scenario folder or a .yaml/.json file")
    )
    return raw


def _key_of(table: Table, data: Any) -> str | None:
    if isinstance(data, dict):
        value = data.get(table.key)
        if value is not None:
            return str(value).strip()
    return None


@dataclass
class _Tables:
    """Per-table outcome of validating raw records one by one."""

    origins: dict[str, list[Origin]] = field(default_factory=dict)
    records: dict[str, list[BaseModel]] = field(default_factory=dict)
    broken: dict[str, set[str]] = field(default_factory=dict)
    partial: dict[str, list[BaseModel]] = field(default_factory=dict)
    partial_origins: dict[str, list[Origin]] = field(default_factory=dict)


def _validate_record(table: Table, rec: _RawRecord, out: _Tables, problems: list[Problem]) -> None:
    """Validate one raw record into ``out``: valid, partial (kept for reference checks) or dropped."""
    problems.extend(rec.problems)
    if not isinstance(rec.data, dict):
        problems.append(
            Problem(
                f"a {table.name} record must be a mapping of fields",
                file=rec.origin.file,
                row=rec.origin.row,
                field=rec.origin.field_name(()) or table.name,
            )
        )
        return
    try:
        value = table.model.model_validate(rec.data)
    except ValidationError as exc:
        problems.extend(
            p
            for p in translate(
                exc,
                table.model,
                file=rec.origin.file,
                row_of=rec.origin.row_of,
                flat=rec.origin.flat,
                prefix=rec.origin.field_name(()) or "",
            )
            if not (p.field in rec.missing_columns and p.message == "Field required")
        )
        key = _key_of(table, rec.data)
        if key:
            out.broken.setdefault(table.name, set()).add(key)
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        out.partial[table.name].append(_partial(table, rec.data, bad))
        out.partial_origins[table.name].append(rec.origin)
        return
    if rec.problems:
        key = _key_of(table, rec.data)
        if key:
            out.broken.setdefault(table.name, set()).add(key)
        out.partial[table.name].append(value)
        out.partial_origins[table.name].append(rec.origin)
        return
    out.records[table.name].append(value)
    out.origins[table.name].append(rec.origin)


def _validate_tables(raw: _Raw, problems: list[Problem]) -> _Tables:
    out = _Tables()
    for name in raw.unreadable:
        out.broken.setdefault(name, set()).add("*")  # validate.ANY: do not check references to it
    for table in TABLES:
        out.origins[table.name] = []
        out.records[table.name] = []
        out.partial[table.name] = []
        out.partial_origins[table.name] = []
        for rec in raw.tables.get(table.name, []):
            _validate_record(table, rec, out, problems)
    return out


def _validate_depots(raw: _Raw, meta_problems: list[Problem]) -> DepotNetwork:
    depots = DepotNetwork()
    if raw.depots is not None:
        data, file, lines = raw.depots
        try:
            depots = DepotNetwork.model_validate({} if data is None else data)
        except ValidationError as exc:
            meta_problems.extend(
                translate(
                    exc, DepotNetwork, file=file, flat=False, row_of=lambda loc, _l=lines: _nearest_line(_l, tuple(loc))
                )
            )
    return depots


def _validate_scenario(
    raw: _Raw, records: dict[str, list[BaseModel]], depots: DepotNetwork, meta_problems: list[Problem]
) -> Scenario | None:
    meta = dict(raw.meta)
    scenario: Scenario | None = None
    if not raw.problems or meta:
        try:
            scenario = Scenario.model_validate({**meta, **records, "depots": depots})
        except ValidationError as exc:
            for p in translate(
                exc,
                Scenario,
                file=raw.meta_file,
                flat=False,
                row_of=lambda loc: _nearest_line(raw.meta_lines, tuple(loc)),
            ):
                if raw.contact_file and (p.field or "").startswith("contact_line.points"):
                    p = dataclasses.replace(p, file=raw.contact_file)
                meta_problems.append(p)
            scenario = None
    if scenario is None and any(records.values()):
        # The metadata is broken but the tables may still be checked against each other.
        contact = meta.get("contact_line")
        try:
            contact_line = ContactLine.model_validate(contact) if contact else None
        except ValidationError:
            contact_line = None
        scenario = Scenario.model_construct(
            None,
            id="invalid",
            name="invalid",
            contact_line=contact_line,
            depots=depots,
            sustainment=None,  # not validated: its references are not checked either
            **{k: tuple(v) for k, v in records.items()},
        )
    return scenario


def _uncertainty_origins(raw: _Raw, origins: dict[str, list[Origin]]) -> None:
    for part in ("conditions", "drivers", "participation"):  # rows of the uncertainty: section
        items = (raw.meta.get("uncertainty") or {}) if isinstance(raw.meta.get("uncertainty"), dict) else {}
        origins[f"uncertainty.{part}"] = [
            Origin(
                raw.meta_file,
                raw.meta_lines.get(("uncertainty", part, i)),
                False,
                ("uncertainty", part, i),
                raw.meta_lines,
            )
            for i in range(len(items.get(part) or []))
        ]


def build(raw: _Raw) -> Loaded:
    """Validate every raw record on its own; assemble the Scenario from those that pass."""
    problems = list(raw.problems)
    tables = _validate_tables(raw, problems)
    meta_problems: list[Problem] = []
    depots = _validate_depots(raw, meta_problems)
    scenario = _validate_scenario(raw, tables.records, depots, meta_problems)
    problems.extend(meta_problems)
    partial_scenario = None
    if any(tables.partial.values()):
        partial_scenario = Scenario.model_construct(
            None, id="partial", name="partial", **{k: tuple(v) for k, v in tables.partial.items()}
        )
    depots_origin = None
    if raw.depots is not None:
        _, file, lines = raw.depots
        depots_origin = Origin(file, lines.get(()), False, (), lines)
    depots_failed = raw.depots is not None and any(p.file == raw.depots[1] for p in meta_problems)
    _uncertainty_origins(raw, tables.origins)
    return Loaded(
        scenario,
        Locator(tables.origins),
        problems,
        tables.broken,
        raw.files,
        partial_scenario,
        Locator(tables.partial_origins),
        depots_origin,
        raw.depots[0] if depots_failed and raw.depots is not None else None,
    )


def _partial(table: Table, data: dict[str, Any], bad: set[str]) -> BaseModel:
    """A record that failed validation, keeping only the fields that are not in error (nested
    models are kept only when they validate on their own)."""
    clean: dict[str, Any] = {}
    for name, value in data.items():
        if name in bad or name not in table.model.model_fields:
            continue
        annotation = table.model.model_fields[name].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            try:
                value = annotation.model_validate(value)
            except ValidationError:
                continue
        clean[name] = value
    return table.model.model_construct(**clean)


def _nearest_line(lines: LineMap, loc: tuple[Any, ...]) -> int | None:
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get(())


def read(path: str | Path) -> Loaded:
    """Read and field-validate a scenario folder or file (no cross-reference checks)."""
    return build(read_raw(Path(path)))


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def meta_mapping(scenario: Scenario, *, inline: tuple[str, ...]) -> dict[str, Any]:
    """scenario.yaml content: metadata, contact line and the tables kept inline."""
    dumped = scenario.model_dump(mode="json", exclude_none=True)
    out: dict[str, Any] = {k: dumped[k] for k in META_FIELDS if k in dumped}
    if scenario.contact_line is not None:
        out["contact_line"] = dumped["contact_line"]
    if scenario.uncertainty is not None:
        out["uncertainty"] = dumped["uncertainty"]
    if scenario.sustainment != Sustainment():
        out["sustainment"] = scenario.sustainment.model_dump(mode="json", exclude_defaults=True)
    for name in inline:
        out[name] = dumped[name]
    return out


def _csv_text(table: Table, scenario: Scenario) -> str:
    cols = columns(table.model)
    rows = []
    for record in getattr(scenario, table.name):
        row = to_row(record)
        rows.append({c: ("" if row.get(c) is None else _csv_value(row[c])) for c in cols})
    # The csv module quotes a cell holding '\n' but not one holding a lone '\r' when rows end
    # in '\n'; quote every cell of such a (rare) table so the carriage return survives.
    has_cr = any("\r" in v for row in rows for v in row.values())
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(
        buf, fieldnames=cols, lineterminator="\n", quoting=csv.QUOTE_ALL if has_cr else csv.QUOTE_MINIMAL
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def folder_files(scenario: Scenario) -> dict[str, str]:
    """File name -> text of the folder form of a scenario."""
    inline = tuple(t.name for t in TABLES if not t.csv)
    files = {SCENARIO_FILE: dump_yaml(meta_mapping(scenario, inline=inline))}
    for table in TABLES:
        if table.csv:
            files[table.filename] = _csv_text(table, scenario)
    depots = scenario.depots.model_dump(mode="json", exclude_defaults=True)
    if depots:
        files[DEPOTS_FILE] = dump_yaml(scenario.depots.model_dump(mode="json"))
    return files


def write_files_atomically(folder: Path, files: dict[str, str], *, replace: bool) -> None:
    """Write all files or none: build them in a sibling temp folder, then move them in.

    ``replace``: files of the target that this write does not produce and that belong to the
    scenario form (``scenario.yaml``, table CSVs, ``depots.yaml``) are removed, so a table moved
    inline does not linger as a stale CSV.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".coalition-", dir=folder.parent))
    except OSError as exc:
        raise InputError(
            [Problem(f"cannot write here: {exc.strerror}", file=str(folder), hint="give a folder you can write to")]
        ) from None
    try:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8", newline="")
        if replace:
            ours = {SCENARIO_FILE, DEPOTS_FILE} | {t.filename for t in TABLES}
            for name in ours - set(files):
                stale = folder / name
                if stale.is_file():
                    stale.unlink()
        for name in files:
            os.replace(tmp / name, folder / name)
    except OSError as exc:
        raise InputError(
            [
                Problem(
                    f"cannot write: {exc.strerror}",
                    file=str(folder),
                    hint="check the folder's permissions and free space",
                )
            ]
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_folder(scenario: Scenario, folder: str | Path) -> Path:
    """Save a scenario as a folder (scenario.yaml + CSV tables [+ depots.yaml])."""
    folder = Path(folder)
    write_files_atomically(folder, folder_files(scenario), replace=True)
    return folder


def write_single(scenario: Scenario, file: str | Path) -> Path:
    """Save a scenario as one YAML or JSON file (by suffix)."""
    file = Path(file)
    data = scenario.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if file.suffix.lower() == ".json" else dump_yaml(data)
    tmp = file.with_name(f".{file.name}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(
            [Problem(f"cannot write: {exc.strerror}", file=str(file), hint="give a file in a folder you can write to")]
        ) from None
    return file


RowOf = Callable[[tuple[Any, ...]], int | None]
