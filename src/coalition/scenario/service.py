"""The public scenario API other packages and the interfaces call.

* :func:`load_scenario` reads a folder, a YAML/JSON file or (``None``) the embedded
  ``paris-2026`` scenario, validates it completely and returns the frozen :class:`Scenario`,
  or raises :class:`ScenarioError` with every problem found. Nothing is half-loaded.
* :func:`validate_path` returns the full report (problems and warnings) without raising.
* :func:`save_scenario`, :func:`export_xlsx`, :func:`import_xlsx` write the other forms.

Scenario files are inputs, not database rows, so these functions take paths, not a Session.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from coalition.errors import InputError, Problem, ScenarioError
from coalition.scenario import io
from coalition.scenario.schemas import Scenario
from coalition.scenario.validate import (
    check_conditions,
    check_references,
    check_scenario,
    errors,
    known_ids,
)

EMBEDDED_ID = "paris-2026"


def embedded_path() -> Path:
    """The folder of the embedded default scenario (shipped inside the package)."""
    return Path(__file__).resolve().parent / "data" / EMBEDDED_ID


@dataclass
class ValidationReport:
    """Everything ``coalition validate`` shows: the scenario (when it loaded) and all problems."""

    path: str
    scenario: Scenario | None
    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _resolve(path: str | Path | None) -> Path:
    return embedded_path() if path is None else Path(path)


def validate_path(path: str | Path | None = None, *, strict: bool = False) -> ValidationReport:
    """Read and check a scenario, collecting every problem (never raises for bad input)."""
    where = _resolve(path)
    if where.suffix.lower() == ".xlsx" and where.is_file():
        from coalition.scenario import xlsx

        loaded = xlsx.read_workbook(where)
    else:
        loaded = io.read(where)
    problems = list(loaded.problems)
    if strict:
        problems = [Problem(p.message, p.file, p.row, p.field, p.hint, "error") for p in problems]
    problems += _checks(loaded, strict=strict)
    problems = sort_problems(problems)
    ok = not errors(problems)
    return ValidationReport(
        path=str(where),
        scenario=loaded.scenario if ok else None,
        problems=problems,
        files=loaded.files,
    )


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """Errors first, then by file and row (stable, so each check's order is kept within)."""
    return sorted(problems, key=lambda p: (p.severity != "error", p.file or "", p.row or 0))


def _checks(loaded: io.Loaded, *, strict: bool) -> list[Problem]:
    """Cross-record checks of what loaded, then reference checks of the rows that did not."""
    out: list[Problem] = []
    if loaded.scenario is not None:
        out += check_scenario(
            loaded.scenario,
            loaded.locator,
            also_known=loaded.broken_keys,
            depots_origin=loaded.depots_origin,
            raw_depots=loaded.depots_raw,
            strict=strict,
        )
    if loaded.partial is not None:
        known = known_ids(loaded.scenario, loaded.broken_keys) if loaded.scenario else dict(loaded.broken_keys)
        # Warnings about rows that failed anyway would be noise: keep the errors only.
        out += errors(check_references(loaded.partial, loaded.partial_locator, known))
        out += errors(check_conditions(loaded.partial, loaded.partial_locator, known))
    return out


def load_scenario(path: str | Path | None = None, *, strict: bool = False) -> Scenario:
    """Load and fully validate a scenario; ``None`` = the embedded paris-2026.

    Raises :class:`ScenarioError` carrying every problem (warnings too, when ``strict``).
    """
    if path is None and not strict:
        return _embedded()
    report = validate_path(path, strict=strict)
    if not report.ok or report.scenario is None:
        raise ScenarioError(report.errors or report.problems)
    return report.scenario


@lru_cache(maxsize=1)
def _embedded() -> Scenario:
    # The embedded scenario is immutable and shipped with the package: read it once.
    report = validate_path(None)
    if not report.ok or report.scenario is None:
        raise ScenarioError(report.errors)
    return report.scenario


def save_scenario(scenario: Scenario, folder: str | Path) -> Path:
    """Write a scenario as a folder (scenario.yaml + CSV tables [+ depots.yaml])."""
    return io.write_folder(scenario, folder)


def save_scenario_file(scenario: Scenario, file: str | Path) -> Path:
    """Write a scenario as one YAML or JSON file (chosen by the suffix)."""
    file = Path(file)
    if file.suffix.lower() not in io.SINGLE_FILE_SUFFIXES:
        raise InputError(
            [Problem(f"unknown file type '{file.suffix}'", file=str(file), hint="use .yaml, .yml or .json")]
        )
    return io.write_single(scenario, file)


def init_folder(folder: str | Path, *, force: bool = False) -> Path:
    """Copy the embedded scenario's files into ``folder`` for editing.

    Refuses a non-empty folder unless ``force`` (then only the scenario's files are replaced).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem("exists and is not a folder", file=str(folder), hint="give a new or empty folder")])
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(
            [
                Problem(
                    "folder is not empty",
                    file=str(folder),
                    hint="give a new or empty folder, or --force to overwrite the scenario files in it",
                )
            ]
        )
    source = embedded_path()
    files = {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(source.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.suffix in (".yaml", ".yml", ".csv", ".json", ".md")
    }
    # replace=True: a table CSV left from an earlier edit (e.g. instruments.csv) must not
    # shadow the embedded scenario.yaml's list; files that are not scenario files are kept.
    io.write_files_atomically(folder, files, replace=True)
    return folder


def export_xlsx(scenario: Scenario, file: str | Path) -> Path:
    """Write every table of a scenario into one XLSX workbook (lossless; see ``xlsx``)."""
    from coalition.scenario import xlsx

    return xlsx.export_workbook(scenario, Path(file))


def read_xlsx(file: str | Path, *, strict: bool = False) -> Scenario:
    """Read and fully validate a workbook written by :func:`export_xlsx` (or edited from it)."""
    file = Path(file)
    if file.suffix.lower() != ".xlsx":
        raise InputError(
            [
                Problem(
                    f"not an .xlsx file: '{file.suffix}'",
                    file=str(file),
                    hint="give the workbook written by `coalition export --xlsx`",
                )
            ]
        )
    return load_scenario(file, strict=strict)


def import_xlsx(file: str | Path, folder: str | Path, *, force: bool = False) -> Path:
    """Read a workbook, validate it completely, and write it as a scenario folder.

    Nothing is written when the workbook has any error. A non-empty target folder is refused
    unless ``force``.
    """
    folder = Path(folder)
    scenario = read_xlsx(file)
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(
            [Problem("folder is not empty", file=str(folder), hint="give a new or empty folder, or --force")]
        )
    return io.write_folder(scenario, folder)


def copy_embedded(folder: str | Path) -> Path:
    """Plain copy of the embedded folder (tests use it to break a copy on purpose)."""
    folder = Path(folder)
    shutil.copytree(embedded_path(), folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    return folder


__all__ = [
    "EMBEDDED_ID",
    "ValidationReport",
    "copy_embedded",
    "embedded_path",
    "export_xlsx",
    "import_xlsx",
    "init_folder",
    "load_scenario",
    "read_xlsx",
    "save_scenario",
    "save_scenario_file",
    "validate_path",
]
