"""Scenario files: load + full validation, and the XLSX round trip, at scale.

The embedded paris-2026 scenario is scaled by copying its pledges and requirement lines k times
(new ids, same references) and saved as a folder. Each figure is compared with a baseline
measured in the same run on the same files:

* ``validate_path`` (read, per-record validation, located problems, every cross-check) against
  the bare parse (``csv.DictReader`` + libyaml ``CSafeLoader``, no validation at all) — the cost of
  checking everything and locating problems;
* ``validate_path`` of a copy with one broken cell in every 20th pledge (all problems found and
  located) against the valid copy;
* XLSX export + read against the folder save + load.
"""

from __future__ import annotations

import csv
import json
import platform
import tempfile
import time
from pathlib import Path

import yaml

from coalition.scenario.schemas import Scenario
from coalition.scenario.service import (
    export_xlsx,
    load_scenario,
    read_xlsx,
    save_scenario,
    validate_path,
)

SIZES = (1, 4, 16)
RESULTS = Path(__file__).with_name("results") / "scenario.json"


def scaled(base: Scenario, k: int) -> Scenario:
    pledges = tuple(p.model_copy(update={"id": f"{p.id}.{i}"}) for i in range(k) for p in base.pledges)
    lines = tuple(r.model_copy(update={"id": f"{r.id}.{i}"}) for i in range(k) for r in base.requirements)
    return base.model_copy(update={"pledges": pledges, "requirements": lines})


def _time(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _bare_parse(folder: Path) -> int:
    rows = 0
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same parser the loader uses
    yaml.load((folder / "scenario.yaml").read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as fh:
            rows += sum(1 for _ in csv.DictReader(fh))
    return rows


def _break(folder: Path) -> int:
    """Put a negative unit count into every 20th pledge; returns how many were broken."""
    path = folder / "pledges.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    broken = 0
    for i, row in enumerate(rows):
        if i % 20 == 0:
            row["units"] = "-1"
            broken += 1
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return broken


def run() -> dict[str, object]:
    base = load_scenario()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in SIZES:
            sc = scaled(base, k)
            folder = save_scenario(sc, Path(tmp) / f"s{k}")
            records = _bare_parse(folder)
            assert load_scenario(folder) == sc
            t_bare = _time(lambda folder=folder: _bare_parse(folder))
            t_load = _time(lambda folder=folder: validate_path(folder))
            broken_folder = save_scenario(sc, Path(tmp) / f"b{k}")
            n_broken = _break(broken_folder)
            report = validate_path(broken_folder)
            assert len(report.errors) == n_broken, (len(report.errors), n_broken)
            t_broken = _time(lambda f=broken_folder: validate_path(f))
            book = Path(tmp) / f"s{k}.xlsx"
            t_folder_rt = _time(lambda sc=sc, k=k: load_scenario(save_scenario(sc, Path(tmp) / f"rt{k}")), 2)
            t_xlsx_rt = _time(lambda sc=sc, book=book: read_xlsx(export_xlsx(sc, book)), 2)
            assert read_xlsx(book) == sc
            rows.append({
                "k": k,
                "pledges": len(sc.pledges),
                "requirements": len(sc.requirements),
                "csv_rows": records,
                "bare_parse_s": round(t_bare, 4),
                "validate_s": round(t_load, 4),
                "validate_vs_bare": round(t_load / t_bare, 1),
                "broken_cells": n_broken,
                "validate_broken_s": round(t_broken, 4),
                "folder_roundtrip_s": round(t_folder_rt, 4),
                "xlsx_roundtrip_s": round(t_xlsx_rt, 4),
                "xlsx_vs_folder": round(t_xlsx_rt / t_folder_rt, 1),
            })
    print(f"{'k':>3} {'pledges':>8} {'rows':>6} {'bare s':>8} {'validate s':>11} {'x bare':>7} "
          f"{'broken s':>9} {'folder rt s':>12} {'xlsx rt s':>10} {'x folder':>9}")
    for r in rows:
        print(f"{r['k']:>3} {r['pledges']:>8} {r['csv_rows']:>6} {r['bare_parse_s']:>8} "
              f"{r['validate_s']:>11} {r['validate_vs_bare']:>7} {r['validate_broken_s']:>9} "
              f"{r['folder_roundtrip_s']:>12} {r['xlsx_roundtrip_s']:>10} {r['xlsx_vs_folder']:>9}")
    result = {
        "benchmark": "scenario",
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
        "baselines": {
            "validate": "bare parse of the same files (csv.DictReader + libyaml CSafeLoader)",
            "xlsx_roundtrip": "folder save + load of the same scenario",
        },
        "rows": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    run()
