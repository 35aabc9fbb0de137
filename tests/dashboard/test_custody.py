"""coalition.dashboard.custody's form readers and tabs (the pages themselves are driven over
HTTP by tests/dashboard/test_custody_pages.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from coalition.auth.schemas import HQ, Principal, Role
from coalition.dashboard.custody import _count_lots, _field_of, _tabs, _transfer_payload


def tr(text: str, **kw: Any) -> str:
    """The page's translator in English: the message with its fields filled in."""
    return text % kw if kw else text


def form(**kw: str) -> dict[str, str]:
    return {"to": "FRA", "serials": "", "lot": "", "quantity": "", "at": "", **kw}


def test_serials_are_read_one_per_line_or_comma_separated() -> None:
    payload, errors = _transfer_payload(form(serials="GBR-S1, GBR-S2\n\n GBR-S3 \n"), tr)
    assert errors == {} and payload == {"to": "FRA", "serials": ["GBR-S1", "GBR-S2", "GBR-S3"]}


def test_a_lot_needs_a_whole_quantity_and_something_must_be_named() -> None:
    payload, errors = _transfer_payload(form(lot="M1-L155", quantity="12", at="SH-1"), tr)
    assert errors == {} and payload["lots"] == [{"lot": "M1-L155", "quantity": 12, "at": "SH-1"}]
    _payload, errors = _transfer_payload(form(lot="M1-L155", quantity="twelve"), tr)
    assert errors == {"quantity": "Give a whole number of units."}
    _payload, errors = _transfer_payload(form(), tr)
    assert errors == {"serials": "Name at least one serial or a lot."}
    _payload, errors = _transfer_payload(form(quantity="3"), tr)  # a quantity without a lot
    assert "serials" in errors


@pytest.mark.parametrize(
    ("location", "field"),
    [
        ("payload.lots.0.quantity", "quantity"),
        ("payload.lots.0.at", "at"),
        ("payload.to", "to"),
        ("payload.serials.2", "serials"),
        ("payload.lots.0.lot", "lot"),
        ("payload.lots", "lot"),
        (None, ""),
        ("payload.other", ""),
    ],
)
def test_a_problem_goes_to_its_form_field(location: str | None, field: str) -> None:
    assert _field_of(location) == field


def test_count_lines_take_commas_semicolons_tabs_or_spaces_and_bad_lines_are_named() -> None:
    text = "M1-L155, 10\nM2-L9;4\nM3\t7\nM4 2\n\nbad line here\nM5, x\n"
    lots, msg = _count_lots(text, tr)
    assert lots == [
        {"lot": "M1-L155", "quantity": 10},
        {"lot": "M2-L9", "quantity": 4},
        {"lot": "M3", "quantity": 7},
        {"lot": "M4", "quantity": 2},
    ]
    assert msg == "Lines 6, 7: write each lot as 'lot, quantity' (a whole number)."
    assert _count_lots("", tr) == ([], "")


def who(nation: str, *roles: Role) -> SimpleNamespace:
    return SimpleNamespace(principal=Principal(user_id=None, name="x", nation=nation, roles=frozenset(roles)))


def test_tabs_follow_the_principals_permissions_and_hq_transfers_nothing() -> None:
    assert _tabs(who("GBR", Role.DEPOT_OFFICER)) == {"transfer": True, "count": True, "checkpoint": True}
    assert _tabs(who("GBR", Role.INSPECTOR)) == {"transfer": False, "count": True, "checkpoint": True}
    assert _tabs(who("GBR", Role.VIEWER)) == {"transfer": False, "count": False, "checkpoint": False}
    assert _tabs(who(HQ, Role.ADMIN)) == {"transfer": False, "count": False, "checkpoint": True}
