"""The `coalition depots` commands through Typer's CliRunner, on the embedded scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coalition.cli.main import app

from .conftest import SAMPLE_CSV

runner = CliRunner()


def test_qd_prints_distance_and_basis() -> None:
    res = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "8000", "--relation", "IBD", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    # the blast formula gives 444 m; the fragment envelope (DFD3 at 8 t: 617.7 m) governs
    assert out["formula_m"] == 444 and out["required_m"] == 618 and out["governs"] == "minimum"
    assert out["rule"] == "iatg.1.1.IBD" and out["statuses"]["iatg.1.1.IBD"] == "V-S2"
    assert out["unverified"] == ["iatg.1.1.IBD", "iatg.1.1.frag"]  # nothing here is primary-verified
    table = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "1000", "--relation", "IBD",
                                "--pes", "earth-covered", "--face", "front"])
    assert "450 m" in table.output and "unverified default" in table.output


def test_qd_us_profile_differs() -> None:
    res = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "8000", "--profile", "us-desr", "--json"])
    assert json.loads(res.output)["required_m"] == 381  # 15.87·20 = 317 m < the 1,250 ft minimum


def test_qd_bad_input_exit_2() -> None:
    res = runner.invoke(app, ["depots", "qd", "--hd", "1.9", "--neq", "-1", "--relation", "XYZ"])
    assert res.exit_code != 0
    assert isinstance(res.exception, Exception)


def test_mix_exit_codes_and_failing_pairs() -> None:
    assert runner.invoke(app, ["depots", "mix", "C", "D", "E"]).exit_code == 0
    res = runner.invoke(app, ["depots", "mix", "A", "D", "H", "--json"])
    assert res.exit_code == 1
    failing = {(p["a"], p["b"]) for p in json.loads(res.output)["failing"]}
    assert failing == {("A", "D"), ("A", "H"), ("D", "H")}
    assert runner.invoke(app, ["depots", "mix", "B", "D", "--assert", "fn1"]).exit_code == 0


def test_check_prints_every_storehouse_and_flags_unverified() -> None:
    res = runner.invoke(app, ["depots", "check"])
    assert res.exit_code == 1  # the illustrative Jasionka shed is too close to the railway
    for sid in ("VIN-ECM1", "VIN-AG1", "JAS-AG1", "JAS-CNT1"):
        assert sid in res.output
    assert "unverified default" in res.output and "PTRD to JAS-RAIL" in res.output
    assert "iatg.1.1.frag = max(DFD rows, 381 m) [U]" in res.output  # names the record, its value and status
    ok = runner.invoke(app, ["depots", "check", "--depot", "DEP-VIN", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.output)["compliant"] is True


def test_licence_names_controlling_site() -> None:
    res = runner.invoke(app, ["depots", "licence", "--depot", "DEP-JAS", "--json"])
    assert res.exit_code == 0
    ag1 = next(x for x in json.loads(res.output) if x["storehouse"] == "JAS-AG1")
    assert ag1["computed"]["1.1"]["controlling"] == "JAS-RAIL"
    assert ag1["computed"]["1.1"]["q_max_kg"] < ag1["issued_neq_kg"]["1.1"]


def test_place_sample_consignment() -> None:
    # some lots cannot be placed: the consignment is refused as a whole (exit 1, nothing placed) ...
    res = runner.invoke(app, ["depots", "place", str(SAMPLE_CSV), "--depot", "DEP-VIN", "--json", "--time-limit", "5"])
    assert res.exit_code == 1, res.output
    whole = json.loads(res.output)
    assert whole["consignment_refused"] is True and whole["placed"] == [] and whole["refused"]
    # ... unless --partial keeps the placeable part (still exit 1: something was refused)
    res = runner.invoke(app, ["depots", "place", str(SAMPLE_CSV), "--depot", "DEP-VIN", "--json", "--time-limit", "5",
                              "--partial"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert out["check_after"]["new_errors"] == []
    assert out["placed"] and all({"lot", "storehouse", "quantity"} <= set(p) and p["unverified"] for p in out["placed"])
    refused = {r["lot"]: r for r in out["refused"]}
    assert "VIN-DEMO-G01" in refused
    isolated = [refused[x] for x in ("VIN-WP-J01", "VIN-MRK-L01") if x in refused]
    assert len(isolated) == 1 and "mixing" in isolated[0]["rule"]  # only one empty igloo for H and L
    assert out["baseline"]["lots_stored"] <= out["lots_stored"]


def test_place_bad_consignment_places_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("lot,item,quantity\nX1,proj-155-he,5\nX2,no-such-item,5\n")
    res = runner.invoke(app, ["depots", "place", str(bad), "--depot", "DEP-VIN"])
    assert res.exit_code != 0
    assert "no-such-item" in str(res.exception) and "row 2" in str(res.exception)


def test_qd_imd_uses_face_specific_record() -> None:
    front = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "8000", "--relation", "IMD",
                                "--pes", "earth-covered", "--face", "front", "--es", "earth-covered",
                                "--es-face", "front", "--json"])
    side = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "8000", "--relation", "IMD",
                               "--pes", "earth-covered", "--face", "side", "--es", "earth-covered",
                               "--es-face", "side", "--json"])
    rear = runner.invoke(app, ["depots", "qd", "--hd", "1.1", "--neq", "8000", "--relation", "IMD",
                               "--pes", "earth-covered", "--face", "rear", "--es", "earth-covered",
                               "--es-face", "front", "--es-type", "3-bar", "--json"])
    f, s, r = json.loads(front.output), json.loads(side.output), json.loads(rear.output)
    assert f["rule"] == "iatg.1.1.IMD.ecm.f-f" and f["required_m"] == 72  # 3.6 × 20
    assert s["rule"] == "iatg.1.1.IMD.ecm.s-s" and s["required_m"] == 10  # 0.5 × 20
    assert r["rule"] == "iatg.1.1.IMD.ecm.r-f.3bar" and r["required_m"] == 36  # 1.8 × 20
    assert f["unverified"] and s["unverified"]


def test_rules_command_lists_unverified() -> None:
    res = runner.invoke(app, ["depots", "rules", "--unverified", "--json"])
    recs = json.loads(res.output)
    assert recs and all(r["status"] == "U" for r in recs)
    assert {"iatg.1.2.IBD", "iatg.1.1.frag"} <= {r["id"] for r in recs}


def test_check_cross_profile() -> None:
    res = runner.invoke(app, ["depots", "check", "--depot", "DEP-JAS", "--profile", "us-desr", "--json"])
    out = json.loads(res.output)
    assert {s["profile"] for s in out["storehouses"]} == {"us-desr"}
    ag1 = next(s for s in out["storehouses"] if s["storehouse"] == "JAS-AG1")
    # 500 m to the railway: the IATG fragment envelope (523 m at 2.7 t) fails, the US 750 ft (229 m)
    # PTR minimum is met: the regimes disagree, and each says which values it used
    assert not [f for f in ag1["findings"] if f["rule"] == "qd.PTRD"]
    iatg = json.loads(runner.invoke(app, ["depots", "check", "--depot", "DEP-JAS", "--json"]).output)
    ag1_iatg = next(s for s in iatg["storehouses"] if s["storehouse"] == "JAS-AG1")
    assert [f["required_m"] for f in ag1_iatg["findings"] if f["rule"] == "qd.PTRD"] == [523]
    assert any("borrowed" in u for u in out["unverified_defaults"])


def test_licence_markdown_sheet() -> None:
    res = runner.invoke(app, ["depots", "licence", "--depot", "DEP-JAS", "--markdown"])
    assert res.exit_code == 0
    assert res.output.count("# Explosives limit licence — storehouse") == 5
    assert "| 1.1 | 2,077 | JAS-RAIL | PTRD | 500.0 | 5,000 |" in res.output  # JAS-AG1: DFD3 ≤ 500 m
    assert "WARNING: issued HD 1.1 limit 5,000 kg exceeds" in res.output
    assert "Issuing technical authority: ____" in res.output  # left for the authority, never invented


def _exit2(args: list[str], *needles: str) -> str:
    """Bad input: an InputError, which the console entry point (coalition.cli.main.run) turns into
    a clean message and exit 2 (CliRunner sees the exception itself)."""
    from coalition.errors import InputError

    res = runner.invoke(app, args)
    assert isinstance(res.exception, InputError) or res.exit_code == 2, (res.exit_code, res.output)
    text = str(res.exception) + res.output
    for n in needles:
        assert n in text, (n, text)
    return text


def test_bad_input_exits_2_naming_file_row_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from coalition.depots.io import decode_csv
    from coalition.errors import InputError

    csv_text = "lot,item,quantity\nVIN-155-A01,,10\n"
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(csv_text.encode("utf-16"))
    assert decode_csv(utf16.read_bytes(), "utf16.csv") == csv_text  # detected and read
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("lot,item,quantity,note\nVIN-155-A01,,10,caf\xe9\n".encode("latin-1"))
    import pytest

    with pytest.raises(InputError) as err:
        decode_csv(latin.read_bytes(), "latin1.csv")
    assert "latin1.csv, row 1" in str(err.value) and "UTF-8" in str(err.value)
    _exit2(["depots", "place", str(latin), "--depot", "DEP-VIN"], "latin1.csv", "UTF-8")
    extra = tmp_path / "extra.csv"
    extra.write_text("lot,item,quantity,colour\nVIN-155-A01,,10,red\n")
    _exit2(["depots", "place", str(extra), "--depot", "DEP-VIN"], "extra.csv", "colour", "valid columns")
    cells = tmp_path / "cells.csv"
    cells.write_text("lot,item,quantity\nVIN-155-A01,,10,oops\n")
    _exit2(["depots", "place", str(cells), "--depot", "DEP-VIN"], "cells.csv, row 1", "beyond")
    _exit2(["depots", "qd", "--hd", "1.1", "--neq", "100", "--cg", "Q"], "--cg", "not a compatibility group")
    _exit2(["depots", "qd", "--hd", "1.1", "--neq", "100", "--cg", "S"], "1.1S", "35 legal")
    _exit2(["depots", "qd", "--hd", "1.1", "--neq", "100", "--pes", "above-ground", "--face", "front"],
           "--face", "earth-covered")
    _exit2(["depots", "qd", "--hd", "1.2", "--neq", "300000"], "outside the validated range", "--neq")
    _exit2(["depots", "qd", "--function", "iatg.curve.BD1", "--neq", "130000"], "validated range")
    _exit2(["depots", "place", str(SAMPLE_CSV)], "--depot", "DEP-VIN", "DEP-JAS")


def test_yaml_cross_reference_errors_name_the_real_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from coalition.scenario.service import embedded_path

    import shutil

    folder = tmp_path / "sc"
    shutil.copytree(embedded_path(), folder)
    text = (folder / "depots.yaml").read_text()
    lines = text.splitlines()
    n = next(i for i, line in enumerate(lines) if "lot: JAS-SMK-H01" in line)
    lines[n] = lines[n].replace("JAS-SMK-H01", "JAS-SMK-H99")
    (folder / "depots.yaml").write_text("\n".join(lines) + "\n")
    text = _exit2(["depots", "check", "--scenario", str(folder)])
    assert f"row {n + 1}" in text and "JAS-SMK-H99" in text and "row 1," not in text


def test_map_and_surveillance_exit_codes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "vin.svg"
    res = runner.invoke(app, ["depots", "map", "--depot", "DEP-VIN", "--out", str(out)])
    assert res.exit_code == 0, res.output
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and "VIN-ECM1" in svg and "VIN-ROAD" in svg
    jas = tmp_path / "jas.svg"
    assert runner.invoke(app, ["depots", "map", "--depot", "DEP-JAS", "--out", str(jas)]).exit_code == 0
    assert 'class="violation"' in jas.read_text()  # JAS-AG1 too close to the railway, drawn in red
    assert 'class="violation"' not in svg


def test_console_exit_codes_through_the_real_entry_point(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The installed entry point (coalition.cli.main.run): exit 2 for bad input with a clean
    message and no traceback; exit 1 for a rule violation."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    bad = subprocess.run([sys.executable, "-m", "coalition.cli", "depots", "qd", "--hd", "1.1", "--neq", "100",
                          "--cg", "S"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "1.1S" in bad.stderr and "Traceback" not in bad.stderr
    viol = subprocess.run([sys.executable, "-m", "coalition.cli", "depots", "check", "--depot", "DEP-JAS"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert viol.returncode == 1 and "JAS-RAIL" in viol.stdout


def test_check_and_place_with_the_ledgers_holdings(tmp_path: Path) -> None:
    """`--ledger`: stock received through the custody ledger near VIN-ECM1's HD 1.1 limit is in
    the check (the same holdings as the dashboard and the API) and keeps a placement out of it."""
    data, db = tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'coalition.db'}"
    assert runner.invoke(app, ["ledger", "init", "--data-dir", str(data)]).exit_code == 0
    events = tmp_path / "near.jsonl"
    lot = {"lot": "GBR-155-NEAR-9", "item_type": "proj-155-he", "quantity": 138, "neq_kg": 10.8, "hazard": "1.1D"}
    events.write_text("\n".join(json.dumps(e) for e in [
        {"type": "manifest", "nation": "GBR", "person": "p", "payload": {
            "manifest": "M-NEAR-9", "origin": "GBR-HOME", "destination": "UA-VINNYTSIA/DEP-VIN", "receiver": "GBR",
            "lots": [lot]}},
        {"type": "dispatch", "nation": "GBR", "person": "p", "payload": {"manifest": "M-NEAR-9"}},
        {"type": "receipt", "nation": "GBR", "person": "p", "payload": {
            "manifest": "M-NEAR-9", "location": "UA-VINNYTSIA/DEP-VIN/VIN-ECM1",
            "lots": [{"lot": "GBR-155-NEAR-9", "quantity": 138}]}}]) + "\n")
    imp = runner.invoke(app, ["ledger", "import", str(events), "--data-dir", str(data), "--demo-countersign"])
    assert imp.exit_code == 0, imp.output

    def neq(args: list[str]) -> float:
        res = runner.invoke(app, ["depots", "check", "--depot", "DEP-VIN", "--json", *args])
        row = next(r for r in json.loads(res.output)["storehouses"] if r["storehouse"] == "VIN-ECM1")
        return float(row["aggregate"]["licence_neq"]["1.1"])

    assert neq(["--ledger", "--database-url", db]) == pytest.approx(neq([]) + 138 * 10.8)
    # the verdict says what it covers: a check without the ledger never reads as the whole truth
    bases = {}
    for args in ([], ["--ledger", "--database-url", db]):
        res = runner.invoke(app, ["depots", "check", "--depot", "DEP-VIN", "--json", *args])
        bases[bool(args)] = json.loads(res.output)["stock_basis"]
    assert bases == {False: "scenario-only", True: "scenario+ledger"}
    human = runner.invoke(app, ["depots", "check", "--depot", "DEP-VIN"])
    assert "ledger's holdings are not included (add --ledger)" in " ".join(human.output.split())
    csv = tmp_path / "more.csv"
    csv.write_text("lot,item,quantity\nVIN-155-A01,proj-155-he,100\n")
    for args, into_ecm1 in (([], True), (["--ledger", "--database-url", db], False)):
        res = runner.invoke(app, ["depots", "place", str(csv), "--depot", "DEP-VIN", "--method", "first-fit",
                                  "--json", *args])
        placed = json.loads(res.output)["placed"]
        assert sum(p["quantity"] for p in placed) == 100, res.output
        assert any(p["storehouse"] == "VIN-ECM1" for p in placed) is into_ecm1, placed
