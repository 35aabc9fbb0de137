"""coalition.dashboard.inspector: whose accountability report a reader may open (the page runs
over HTTP in tests/dashboard/test_custody_pages.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from coalition.auth.schemas import HQ, Principal, Role
from coalition.auth.scope import OutOfScope
from coalition.dashboard.inspector import _donor
from coalition.errors import InputError


def ctx(nation: str) -> SimpleNamespace:
    return SimpleNamespace(
        principal=Principal(user_id=None, name="i", nation=nation, roles=frozenset({Role.INSPECTOR}))
    )


def test_a_nation_reads_its_own_report_by_default_and_hq_chooses() -> None:
    assert _donor(ctx("GBR"), "") == "GBR" and _donor(ctx("GBR"), "gbr") == "GBR"
    assert _donor(ctx(HQ), "") == "" and _donor(ctx(HQ), "fra") == "FRA"


def test_another_nations_report_is_out_of_scope_and_a_bad_code_is_named() -> None:
    with pytest.raises(OutOfScope):
        _donor(ctx("GBR"), "FRA")
    for bad in ("GB", "GB1", "GBRX"):
        with pytest.raises(InputError) as err:
            _donor(ctx(HQ), bad)
        assert err.value.problems[0].field == "donor"
