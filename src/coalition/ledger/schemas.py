"""Typed values of the custody ledger: submitted events, proofs, checkpoints, results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coalition.errors import InputError, Problem, closest
from coalition.inventory.schemas import EVENT_TYPES, PAYLOADS, _Payload

TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$"


class EventIn(BaseModel):
    """One custody event as submitted (a line of EVENTS.jsonl, or an API body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = Field(description="one of: " + ", ".join(EVENT_TYPES))
    nation: str = Field(pattern=r"^[A-Z]{3}$", description="acting nation, ISO 3166 alpha-3")
    person: str = Field(min_length=1, max_length=120, description="the person acting (name or id)")
    time: str | None = Field(
        default=None, pattern=TIME_PATTERN, description="UTC, e.g. 2026-03-02T09:00:00Z; default now"
    )
    payload: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _real_time(cls, v: str | None) -> str | None:
        if v is not None:
            datetime.strptime(v[:19], "%Y-%m-%dT%H:%M:%S")  # a real calendar date and time
        return v


@dataclass(frozen=True)
class Submitted:
    """A validated submission: the payload is the typed model of its event type."""

    type: str
    nation: str
    person: str
    time: str | None
    payload: _Payload
    file: str | None = None  # where it was read from, for messages that name the file's line
    row: int | None = None

    def where(self, index: int, total: int) -> str:
        if self.row is not None:
            return f"{self.file or 'input'} line {self.row}"
        return f"event {index} of {total}"


def _problems(exc: ValidationError, *, file: str | None, row: int | None, prefix: str = "") -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        out.append(Problem(err["msg"], file=file, row=row, field=(prefix + loc) if loc else prefix.rstrip(".") or None))
    return out


def parse_event(obj: object, *, file: str | None = None, row: int | None = None) -> Submitted:
    """Validate one submitted event; raise InputError with every problem found in it."""
    try:
        ev = EventIn.model_validate(obj)
    except ValidationError as exc:
        raise InputError(_problems(exc, file=file, row=row)) from None
    if ev.type not in PAYLOADS:
        hint = closest(ev.type, EVENT_TYPES)
        raise InputError(
            [
                Problem(
                    f"unknown event type '{ev.type}'",
                    file=file,
                    row=row,
                    field="type",
                    hint=(f"did you mean '{hint}'? " if hint else "") + "valid: " + ", ".join(EVENT_TYPES),
                )
            ]
        )
    try:
        payload = PAYLOADS[ev.type].model_validate(ev.payload)
    except ValidationError as exc:
        raise InputError(_problems(exc, file=file, row=row, prefix="payload.")) from None
    return Submitted(ev.type, ev.nation, ev.person, ev.time, payload, file, row)


def parse_jsonl(text: str, *, file: str) -> list[Submitted]:
    """Parse EVENTS.jsonl; collect the problems of every line before failing (nothing is written)."""
    out: list[Submitted] = []
    problems: list[Problem] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            # a JSONDecodeError has a position; a plain ValueError (e.g. an int literal over Python's
            # 4300-digit cap) has none
            why = f"{exc.msg} at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            problems.append(
                Problem(
                    f"not valid JSON ({why})",
                    file=file,
                    row=n,
                    hint='one JSON object per line, e.g. {"type": "dispatch", ...}',
                )
            )
            continue
        try:
            out.append(parse_event(obj, file=file, row=n))
        except InputError as exc:
            problems.extend(exc.problems)
        if len(problems) >= 200:
            problems.append(Problem("stopped after 200 problems", file=file))
            break
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem("no events in file", file=file, hint="one JSON object per line")])
    return out


@dataclass(frozen=True)
class AppendResult:
    first_seq: int
    last_seq: int
    batches: tuple[int, ...]
    size: int  # log size after the append

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: int
    size: int
    root: bytes
    time: str
    key_id: str
    signature: bytes
    cosigners: tuple[str, ...] = ()
    heads: str | None = None  # the nation-heads extension line of the note

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.heads,) if self.heads else ()


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: bytes
    tree_size: int
    root: bytes
    path: tuple[bytes, ...]
    batch_id: int
    batch_index: int
    batch_size: int
    batch_root: bytes
    batch_path: tuple[bytes, ...]
    checkpoint_id: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "log_path": [h.hex() for h in self.path],
            "batch_id": self.batch_id,
            "batch_index": self.batch_index,
            "batch_size": self.batch_size,
            "batch_root": self.batch_root.hex(),
            "batch_path": [h.hex() for h in self.batch_path],
            "checkpoint_id": self.checkpoint_id,
        }
