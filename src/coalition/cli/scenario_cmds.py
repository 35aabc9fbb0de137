"""CLI commands for scenario files: validate, schema, scenario init/info, export, import.

Thin: each command calls :mod:`coalition.scenario.service` and renders. Bad input ends with a
table of every problem (file, row, field, what is valid) and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from coalition.errors import InputError, Problem
from coalition.scenario import service
from coalition.scenario.schemas import Scenario

scenario_app = typer.Typer(
    name="scenario",
    help="Scenarios: write, summarise or generate one; store, pull, list and diff stored ones.",
    no_args_is_help=True,
)

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(
        help="scenario folder, or .yaml/.json/.xlsx file (default: the embedded paris-2026)", show_default=False
    ),
]
ScenarioOpt = Annotated[
    Path | None,
    typer.Option(
        "--scenario", "-s", help="scenario folder, or .yaml/.json/.xlsx file (default: embedded)", show_default=False
    ),
]


def _pick(positional: Path | None, option: Path | None) -> Path | None:
    if positional is not None and option is not None and positional != option:
        raise InputError(
            [
                Problem(
                    "two different scenarios given",
                    field="--scenario",
                    hint="give the scenario either as an argument or with -s",
                )
            ]
        )
    return positional if positional is not None else option


def problems_table(problems: list[Problem], title: str) -> Table:
    """A Rich table of problems, one row each (shared with other commands)."""
    table = Table(title=title, show_lines=False, header_style="bold")
    table.add_column("", no_wrap=True)
    table.add_column("file", overflow="fold")
    table.add_column("row", justify="right")
    table.add_column("field", overflow="fold")
    table.add_column("problem", overflow="fold")
    table.add_column("what is valid", overflow="fold")
    for p in problems:
        mark = "[red]error[/]" if p.severity == "error" else "[yellow]warn[/]"
        table.add_row(mark, p.file or "", "" if p.row is None else str(p.row), p.field or "", p.message, p.hint or "")
    return table


def fail(exc: InputError, console: Console | None = None) -> NoReturn:
    """Print every problem of an InputError and exit 2."""
    console = console or Console(stderr=True)
    console.print(problems_table(exc.problems, f"{len(exc.problems)} problem(s)"))
    raise typer.Exit(2)


def illustrative_banner(scenario: Scenario) -> str:
    if scenario.illustrative:
        return (
            f"[bold yellow]ILLUSTRATIVE scenario[/] '{scenario.id}': not an official plan; "
            "facts carry evidence R/A/U, choices are marked I."
        )
    return f"scenario '{scenario.id}'"


def validate(
    scenario: ScenarioArg = None,
    scenario_opt: ScenarioOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="treat warnings as errors")] = False,
) -> None:
    """Check a scenario and report ALL problems at once (exit 2 when there are errors)."""
    console = Console()
    try:
        path = _pick(scenario, scenario_opt)
    except InputError as exc:
        fail(exc)
    report = service.validate_path(path, strict=strict)
    errors, warnings = report.errors, report.warnings
    if as_json:
        data = {
            "scenario": report.path,
            "valid": report.ok,
            "errors": len(errors),
            "warnings": len(warnings),
            "problems": [p.as_dict() for p in report.problems],
            "files": report.files,
        }
        if report.scenario is not None:
            from coalition.scenario.validate import summary

            data["id"] = report.scenario.id
            data["illustrative"] = report.scenario.illustrative
            data["summary"] = summary(report.scenario)
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        raise typer.Exit(0 if report.ok else 2)
    if report.problems:
        console.print(
            problems_table(report.problems, f"{report.path}: {len(errors)} error(s), {len(warnings)} warning(s)")
        )
    if not report.ok:
        console.print(f"[bold red]invalid:[/] {len(errors)} error(s); nothing was loaded.")
        raise typer.Exit(2)
    assert report.scenario is not None
    from coalition.scenario.validate import summary

    counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary(report.scenario).items())
    console.print(f"[bold green]valid:[/] {report.path}")
    console.print(illustrative_banner(report.scenario))
    console.print(counts, highlight=False)
    if warnings:
        console.print(f"{len(warnings)} warning(s) (use --strict to fail on them)")


def schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file")] = None,
) -> None:
    """Print the JSON Schema of a scenario (the shape of a single-file .yaml/.json scenario)."""
    text = json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}")


@scenario_app.command("init")
def init(
    folder: Annotated[Path, typer.Argument(help="new or empty folder to write the scenario into")],
    force: Annotated[bool, typer.Option("--force", help="overwrite the scenario files of a non-empty folder")] = False,
) -> None:
    """Write the embedded paris-2026 scenario into FOLDER for editing."""
    try:
        service.init_folder(folder, force=force)
    except InputError as exc:
        fail(exc)
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    typer.echo(f"wrote the embedded scenario '{service.EMBEDDED_ID}' to {folder}: {', '.join(files)}")
    typer.echo(f"next: edit the files, then `coalition validate {folder}`")


@scenario_app.command("info")
def info(scenario: ScenarioArg = None, scenario_opt: ScenarioOpt = None) -> None:
    """Summarise a scenario: what it holds, and its sources and licences."""
    console = Console()
    try:
        sc = service.load_scenario(_pick(scenario, scenario_opt))
    except InputError as exc:
        fail(exc)
    from coalition.scenario.validate import summary

    console.print(f"[bold]{sc.name}[/] ({sc.id})")
    console.print(illustrative_banner(sc))
    table = Table(header_style="bold")
    table.add_column("table")
    table.add_column("records", justify="right")
    for key, value in summary(sc).items():
        table.add_row(key.replace("_", " "), str(value))
    console.print(table)
    options = Table(title="force options", header_style="bold")
    options.add_column("id")
    options.add_column("name")
    options.add_column("target", justify="right")
    options.add_column("lines", justify="right")
    options.add_column("personnel in lines", justify="right")
    caps = {c.code: c for c in sc.capabilities}
    for o in sc.force_options:
        lines = sc.requirements_of(o.id)
        people = sum(r.quantity * caps[r.capability].personnel for r in lines if r.capability in caps)
        options.add_row(o.id, o.name, f"{o.personnel_target:,}", str(len(lines)), f"{people:,}")
    console.print(options)
    evidence = Table(title="how much to trust it: records by evidence", header_style="bold")
    evidence.add_column("table")
    for label in ("R reported", "A approximate", "U unknown", "I illustrative"):
        evidence.add_column(label, justify="right")
    for name in (
        "nations",
        "pledges",
        "conditions",
        "timeline",
        "instruments",
        "capabilities",
        "requirements",
        "hubs",
        "rear_nodes",
        "corridors",
    ):
        records = getattr(sc, name)
        counts = [sum(1 for r in records if r.evidence.value == code) for code in "RAUI"]
        evidence.add_row(name.replace("_", " "), *(str(c) for c in counts))
    console.print(evidence)
    for line in sc.attribution:
        console.print(f"[dim]{line}[/]", highlight=False)


def export(
    scenario: ScenarioArg = None,
    scenario_opt: ScenarioOpt = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="write all tables into this .xlsx workbook")] = None,
    yaml_file: Annotated[Path | None, typer.Option("--yaml", help="write one .yaml file")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="write one .json file")] = None,
    folder: Annotated[Path | None, typer.Option("--folder", help="write a scenario folder")] = None,
) -> None:
    """Export a scenario (validated first) to XLSX, YAML, JSON or a folder."""
    targets = [t for t in (xlsx, yaml_file, json_file, folder) if t is not None]
    try:
        if not targets:
            raise InputError(
                [
                    Problem(
                        "nothing to write",
                        field="--xlsx",
                        hint="give --xlsx FILE, --yaml FILE, --json FILE or --folder DIR",
                    )
                ]
            )
        sc = service.load_scenario(_pick(scenario, scenario_opt))
        if xlsx is not None:
            service.export_xlsx(sc, xlsx)
        if yaml_file is not None:
            service.save_scenario_file(sc, yaml_file)
        if json_file is not None:
            service.save_scenario_file(sc, json_file)
        if folder is not None:
            service.save_scenario(sc, folder)
    except InputError as exc:
        fail(exc)
    for t in targets:
        typer.echo(f"wrote {t}")
    if sc.illustrative:
        typer.echo(f"note: '{sc.id}' is an illustrative scenario, not an official plan")


def import_(
    file: Annotated[Path, typer.Argument(help="the .xlsx workbook to import")],
    folder: Annotated[Path, typer.Argument(help="new or empty folder to write the scenario into")],
    force: Annotated[bool, typer.Option("--force", help="overwrite the scenario files of a non-empty folder")] = False,
) -> None:
    """Import an XLSX workbook (as written by `export --xlsx`) into a scenario folder.

    The workbook is validated completely first; nothing is written if it has any error.
    """
    try:
        service.import_xlsx(file, folder, force=force)
    except InputError as exc:
        fail(exc)
    typer.echo(f"imported {file} into {folder}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("validate")(validate)
    app.command("schema")(schema)
    app.command("export")(export)
    app.command("import")(import_)
    app.add_typer(scenario_app, name="scenario")
