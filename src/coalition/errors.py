"""One exception tree for the whole project.

Every error a user can cause carries :class:`Problem` records that name the place (file, row or
line, field) and say what would be valid. Interfaces (CLI, API) turn these into clean messages;
nothing below them prints or exits.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    message: str
    file: str | None = None
    row: int | None = None  # 1-based data row (CSV/XLSX) or line (YAML/JSON), header excluded
    field: str | None = None
    hint: str | None = None  # what would be valid, e.g. "did you mean 'parliament.GBR'?"
    severity: str = "error"  # "error" or "warning"

    def where(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts) if parts else "(scenario)"

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
            "severity": self.severity,
        }


class CoalitionError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass
class InputError(CoalitionError):
    """Bad input: one or more problems, all reported at once."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if not self.problems:
            return "invalid input"
        if len(self.problems) == 1:
            return str(self.problems[0])
        return f"{len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)


class ScenarioError(InputError):
    """A scenario file or folder failed validation."""


class NotFoundError(CoalitionError):
    """A referenced object does not exist (or is outside the caller's scope)."""


class PermissionDeniedError(CoalitionError):
    """The caller is authenticated but lacks the role or duty separation for this action."""


class ConflictError(CoalitionError):
    """The request conflicts with the current state (e.g. an invariant would break)."""


class IntegrityError(CoalitionError):
    """Stored data failed verification (hash, signature, checkpoint)."""


def closest(name: str, valid: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """Suggest the closest valid name, for 'did you mean' hints."""
    import difflib

    match = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.5)
    return match[0] if match else None
