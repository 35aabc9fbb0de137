"""Reading depot files: a depots YAML and a consignment CSV, with located problems.

Both readers validate completely before returning: bad input raises :class:`InputError` carrying
every problem (file, row, field, what would be valid); nothing is half-read, so nothing is placed
from a consignment that fails validation.
"""

from __future__ import annotations

import csv
import io as _io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coalition.depots.placement_state import Incoming
from coalition.depots.schemas import Catalogue, DepotNetwork, ItemType, Lot, code_problem
from coalition.errors import InputError, Problem, closest

CONSIGNMENT_COLUMNS = ("lot", "item", "quantity", "neq_kg", "note")


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _node_lines(
    node: yaml.Node | None, path: tuple[Any, ...] = (), out: dict[tuple[Any, ...], int] | None = None
) -> dict[tuple[Any, ...], int]:
    out = {} if out is None else out
    if node is None:
        return out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[path + (k.value,)] = k.start_mark.line + 1
            _node_lines(v, path + (k.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _node_lines(v, path + (i,), out)
    return out


def parse_depots(text: str, file: str = "depots.yaml") -> DepotNetwork:
    """Parse and validate a depots YAML mapping (the same shape the scenario embeds)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            [Problem(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=file, row=mark.line + 1 if mark else None)]
        ) from None
    lines = _node_lines(node)
    try:
        return DepotNetwork.model_validate(data or {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            row = None
            for cut in range(len(loc), -1, -1):
                if loc[:cut] in lines:
                    row = lines[loc[:cut]]
                    break
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = f"required field '{loc[-1]}' is missing"
                if loc[-1] in ("x", "y"):
                    msg += " (every storehouse needs local coordinates x and y in metres)"
            problems.append(Problem(msg, file=file, row=row, field=_loc_text(loc) or None))
        raise InputError(problems) from None


def load_depots(path: str | Path) -> DepotNetwork:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read: {exc.strerror}", file=str(p))]) from None
    return parse_depots(text, p.name)


def _row_quantity(row: dict[str, str], n: int, file: str, problems: list[Problem]) -> int:
    qty_text = row.get("quantity", "")
    quantity = 0
    try:
        quantity = int(qty_text)
        if quantity < 1:
            problems.append(
                Problem(f"quantity must be a whole number ≥ 1, got {qty_text}", file=file, row=n, field="quantity")
            )
    except ValueError:
        problems.append(
            Problem(
                "quantity is missing" if not qty_text else f"quantity '{qty_text}' is not a whole number",
                file=file,
                row=n,
                field="quantity",
                hint="a whole number of units ≥ 1",
            )
        )
    return quantity


def _row_item(
    row: dict[str, str],
    lot_id: str,
    existing: Lot | None,
    items: Mapping[str, ItemType],
    n: int,
    file: str,
    problems: list[Problem],
) -> ItemType | None:
    """The row's item: given (and known, and matching an existing lot's) or the existing lot's."""
    item_id = row.get("item", "")
    item = None
    if item_id:
        item = items.get(item_id)
        if item is None:
            hint = closest(item_id, list(items))
            problems.append(
                Problem(
                    f"unknown item '{item_id}'",
                    file=file,
                    row=n,
                    field="item",
                    hint=f"did you mean '{hint}'?" if hint else f"known items: {', '.join(sorted(items)[:12])}",
                )
            )
        elif existing is not None and existing.item != item_id:
            problems.append(
                Problem(
                    f"lot '{lot_id}' is item '{existing.item}' in the catalogue, not '{item_id}'",
                    file=file,
                    row=n,
                    field="item",
                )
            )
    elif existing is None and lot_id:
        problems.append(
            Problem(
                f"lot '{lot_id}' is new, so its item is required",
                file=file,
                row=n,
                field="item",
                hint="an item id of the catalogue",
            )
        )
    else:
        item = items.get(existing.item) if existing else None
    return item


def _row_neq(row: dict[str, str], item: ItemType | None, n: int, file: str, problems: list[Problem]) -> float | None:
    neq_text = row.get("neq_kg", "")
    neq: float | None = None
    if neq_text:
        try:
            neq = float(neq_text)
            if not math.isfinite(neq) or neq <= 0:
                problems.append(
                    Problem(
                        f"NEQ per unit must be a positive number of kg, got {neq_text}",
                        file=file,
                        row=n,
                        field="neq_kg",
                    )
                )
            elif item is not None and neq > item.gross_kg:
                problems.append(
                    Problem(
                        f"NEQ per unit {neq:g} kg exceeds the gross mass per unit {item.gross_kg:g} kg of '{item.id}'",
                        file=file,
                        row=n,
                        field="neq_kg",
                        hint=f"at most {item.gross_kg:g}",
                    )
                )
        except ValueError:
            problems.append(
                Problem(
                    f"NEQ '{neq_text}' is not a number",
                    file=file,
                    row=n,
                    field="neq_kg",
                    hint="kg per unit, e.g. 10.8; leave empty for the catalogue value",
                )
            )
    return neq


def parse_consignment(
    text: str, catalogue: Catalogue, file: str = "consignment.csv"
) -> tuple[Catalogue, list[Incoming]]:
    """Validate a consignment CSV (lot, item, quantity[, neq_kg, note]) against the catalogue.

    A lot id already in the catalogue may leave ``item`` empty; a new lot needs a known item.
    Returns the catalogue extended by the new lots and the incoming lines. Raises InputError with
    every problem (row numbers count data rows from 1, header excluded).
    """
    reader = csv.DictReader(_io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    problems: list[Problem] = []
    missing = [c for c in ("lot", "quantity") if c not in header]
    if missing:
        raise InputError(
            [
                Problem(
                    f"missing column(s) {', '.join(missing)}",
                    file=file,
                    row=None,
                    hint=f"columns: {', '.join(CONSIGNMENT_COLUMNS)}",
                )
            ]
        )
    unknown = [h for h in header if h not in CONSIGNMENT_COLUMNS]
    for h in unknown:
        problems.append(
            Problem(
                f"unknown column '{h}' in the header",
                file=file,
                row=None,
                field=h,
                hint=f"valid columns: {', '.join(CONSIGNMENT_COLUMNS)}; remove the others",
            )
        )
    items = catalogue.item_by_id
    lots = catalogue.lot_by_id
    new_lots: list[Lot] = []
    incoming: list[Incoming] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(reader, start=1):
        if raw.get(None):  # more cells than the header has columns
            problems.append(
                Problem(
                    f"{len(raw[None])} value(s) beyond the {len(header)} header columns",
                    file=file,
                    row=n,
                    field=None,
                    hint=f"columns: {', '.join(header)}",
                )
            )
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        lot_id = row.get("lot", "")
        before = len(problems)
        if not lot_id:
            problems.append(Problem("lot id is missing", file=file, row=n, field="lot"))
        elif lot_id in seen:
            problems.append(
                Problem(
                    f"lot '{lot_id}' already given in row {seen[lot_id]}",
                    file=file,
                    row=n,
                    field="lot",
                    hint="one row per lot; add the quantities",
                )
            )
        else:
            seen[lot_id] = n
        quantity = _row_quantity(row, n, file, problems)
        existing = lots.get(lot_id)
        item = _row_item(row, lot_id, existing, items, n, file, problems)
        neq = _row_neq(row, item, n, file, problems)
        if len(problems) > before:
            continue
        if existing is None:
            assert item is not None
            new_lots.append(Lot(id=lot_id, item=item.id, neq_kg=neq, note=row.get("note", "")))
        elif neq is not None and neq != (existing.neq_kg or items[existing.item].neq_kg):
            problems.append(
                Problem(
                    f"lot '{lot_id}' exists with a different NEQ per unit",
                    file=file,
                    row=n,
                    field="neq_kg",
                    hint="leave empty for an existing lot",
                )
            )
            continue
        incoming.append(Incoming(lot_id, quantity))
    if problems:
        raise InputError(problems)
    if not incoming:
        raise InputError([Problem("the consignment has no rows", file=file)])
    return Catalogue(items=catalogue.items, lots=catalogue.lots + tuple(new_lots)), incoming


def decode_csv(data: bytes, file: str) -> str:
    """Text of a CSV saved by a spreadsheet: UTF-8 (with or without BOM) or UTF-16 (BOM, or the
    NUL-byte pattern of ASCII text). Anything else (e.g. Latin-1 / Windows-1252) is refused with the
    row of the first undecodable byte: guessing a single-byte code page could silently change a
    lot id, so the file must be re-saved as UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        return data.decode("utf-16-le")
    if len(data) >= 4 and data[0:4:2] == b"\x00\x00" and data[1:4:2] != b"\x00\x00":
        return data.decode("utf-16-be")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n")  # data rows count from 1 after the header line
        byte = data[exc.start]
        guess = f"; byte 0x{byte:02X} reads as '{bytes([byte]).decode('cp1252', 'replace')}' in Windows-1252/Latin-1"
        raise InputError(
            [
                Problem(
                    f"not UTF-8 text{guess}",
                    file=file,
                    row=row if row > 0 else None,
                    hint="expected UTF-8 (or UTF-16 with a byte-order mark): save the sheet as 'CSV UTF-8'",
                )
            ]
        ) from None


def load_consignment(path: str | Path, catalogue: Catalogue) -> tuple[Catalogue, list[Incoming]]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError([Problem(f"cannot read: {exc.strerror}", file=str(p))]) from None
    return parse_consignment(decode_csv(data, p.name), catalogue, p.name)


__all__ = ["code_problem", "load_consignment", "load_depots", "parse_consignment", "parse_depots"]
