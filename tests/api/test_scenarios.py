"""coalition.api.routers.scenarios' upload reader and marking (the routes run over HTTP in
tests/api/test_scenario_edits.py and tests/api/test_offload.py)."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace

import pytest
from fastapi import UploadFile

from coalition.api.routers.scenarios import _read_upload, _scenario_marking
from coalition.auth.rules import PUBLIC
from coalition.errors import InputError


def upload(name: str | None, data: bytes) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=name)


def read(name: str | None, data: bytes, limit: int = 10) -> tuple[str, bytes]:
    return asyncio.run(_read_upload(upload(name, data), limit))


def test_a_yaml_or_json_file_up_to_the_limit_is_read_whole() -> None:
    assert read("s.yaml", b"0123456789") == ("s.yaml", b"0123456789")
    assert read("S.JSON", b"{}") == ("S.JSON", b"{}")  # the suffix is case-blind
    assert read("../../etc/x.yml", b"a") == ("x.yml", b"a")  # only the file's own name is kept
    assert read(None, b"a") == ("scenario.yaml", b"a")


def test_other_types_and_larger_files_are_refused_naming_the_file() -> None:
    for name in ("s.xlsx", "s", "s.yaml.exe"):
        with pytest.raises(InputError) as err:
            read(name, b"x")
        p = err.value.problems[0]
        assert (p.field, p.file) == ("file", name) and "unsupported file type" in p.message
    with pytest.raises(InputError) as err:
        read("s.yaml", b"x" * 11)
    assert err.value.problems[0].message == "file larger than 10 bytes"


def test_every_stored_scenario_is_public_with_its_origin() -> None:
    m = _scenario_marking(SimpleNamespace(origin="GBR"))
    assert m.origin == "GBR" and m.releasable_to == PUBLIC.releasable_to
