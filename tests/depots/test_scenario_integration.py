"""The depots file inside a scenario folder, through the scenario loader."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app
from coalition.errors import InputError
from coalition.scenario.service import embedded_path, load_scenario

from .conftest import DEPOTS_YAML


def test_embedded_scenario_carries_the_depots(network) -> None:  # type: ignore[no-untyped-def]
    sc = load_scenario()
    assert sc.depots == network
    hubs = {h.id for h in sc.hubs} | {r.id for r in sc.rear_nodes}
    assert {d.hub for d in sc.depots.depots} <= hubs
    assert any(d.hub.startswith("UA-") for d in sc.depots.depots)  # one at a Ukrainian hub
    assert any(d.hub in {r.id for r in sc.rear_nodes} for d in sc.depots.depots)  # one at a rear node


def test_broken_depots_file_is_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "sc"
    shutil.copytree(embedded_path(), folder)
    text = DEPOTS_YAML.read_text().replace("code: 1.3C, un_number: UN0242", "code: 1.3D, un_number: UN0242")
    (folder / "depots.yaml").write_text(text)
    with pytest.raises(InputError) as exc:
        load_scenario(folder)
    p = next(p for p in exc.value.problems if p.file == "depots.yaml")
    assert "1.3" in p.message and p.row is not None
    res = CliRunner().invoke(app, ["depots", "check", "-s", str(folder)])
    assert res.exit_code != 0 and isinstance(res.exception, InputError)


def test_check_on_a_scenario_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "sc"
    shutil.copytree(embedded_path(), folder)
    res = CliRunner().invoke(app, ["depots", "licence", "-s", str(folder), "--depot", "DEP-VIN"])
    assert res.exit_code == 0 and "VIN-ECM1" in res.output and "controlling" in res.output
    bad = CliRunner().invoke(app, ["depots", "check", "-s", str(folder), "--depot", "DEP-VINX"])
    assert "did you mean 'DEP-VIN'" in str(bad.exception)
