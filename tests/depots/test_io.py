"""Bad input: clear messages naming file, row and field; nothing placed from a bad consignment."""

from __future__ import annotations

import pytest

from coalition.depots.io import parse_consignment, parse_depots
from coalition.errors import InputError

GOOD = """
items:
  - {id: he, name: HE, code: 1.1D, neq_kg: 10, gross_kg: 40}
lots:
  - {id: L1, item: he}
depots:
  - id: D
    name: depot
    hub: UA-LVIV
    storehouses:
      - {id: S1, kind: earth-covered, x: 0, y: 0}
"""


def _problems(text: str) -> list:  # type: ignore[type-arg]
    with pytest.raises(InputError) as exc:
        parse_depots(text)
    return exc.value.problems


@pytest.mark.parametrize(("bad", "good", "field_part", "words"), [
    ("code: 1.1D", "code: 1.3D", "items[0].code", "HD 1.3 permits only"),
    ("code: 1.1D", "code: 1.1S", "items[0].code", "not one of the 35 legal codes"),
    ("code: 1.1D", "code: 1.1X", "items[0].code", "not a compatibility group"),
    ("neq_kg: 10", "neq_kg: -5", "items[0].neq_kg", "greater than 0"),
    ("neq_kg: 10, ", "", "items[0].neq_kg", "required field 'neq_kg'"),
    ("neq_kg: 10", "neq_kg: 50", "items[0]", "exceeds gross mass"),
    ("x: 0, y: 0", "y: 0", "storehouses[0]", "has no coordinates (x missing)"),
])
def test_bad_depot_file_names_row_and_field(bad: str, good: str, field_part: str, words: str) -> None:
    problems = _problems(GOOD.replace(bad, good))
    assert any(field_part in (p.field or "") and words in p.message for p in problems), problems
    assert all(p.row is not None and p.file == "depots.yaml" for p in problems)


def test_good_depot_file_loads() -> None:
    net = parse_depots(GOOD)
    assert net.depots[0].storehouses[0].kind == "earth-covered"


def test_unknown_references_reported_together() -> None:
    text = GOOD + """stock:
  - {storehouse: S9, lot: L1, quantity: 1}
  - {storehouse: S1, lot: L9, quantity: 1}
"""
    msg = " ".join(p.message for p in _problems(text))
    assert "unknown storehouse 'S9'" in msg and "unknown lot 'L9'" in msg


def test_consignment_bad_rows_all_reported(network) -> None:  # type: ignore[no-untyped-def]
    csv_text = (
        "lot,item,quantity,neq_kg\n"
        "N1,proj-155-hx,10,\n"        # unknown item (did you mean)
        "N2,proj-155-he,-3,\n"        # negative quantity
        "N3,proj-155-he,,\n"          # missing quantity
        "N4,proj-155-he,5,-1\n"       # negative NEQ
        "N5,proj-155-he,5,99\n"       # NEQ above gross mass
        "N6,,5,\n"                    # new lot without item
        "N7,proj-155-he,5,\n"         # fine
    )
    with pytest.raises(InputError) as exc:
        parse_consignment(csv_text, network.catalogue, "c.csv")
    got = {(p.row, p.field) for p in exc.value.problems}
    assert got == {(1, "item"), (2, "quantity"), (3, "quantity"), (4, "neq_kg"), (5, "neq_kg"), (6, "item")}
    first = next(p for p in exc.value.problems if p.row == 1)
    assert "proj-155-he" in (first.hint or "") and first.file == "c.csv"


def test_consignment_good_rows_extend_catalogue(network) -> None:  # type: ignore[no-untyped-def]
    cat, incoming = parse_consignment("lot,item,quantity,neq_kg\nN1,proj-155-he,10,10.5\nVIN-155-A01,,4,\n",
                                      network.catalogue)
    assert [i.quantity for i in incoming] == [10, 4]
    assert cat.neq_per_unit("N1") == 10.5 and cat.neq_per_unit("VIN-155-A01") == 10.8
