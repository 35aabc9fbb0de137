"""The rule table is data: every record sourced and tagged; verifying a value is a data change."""

from __future__ import annotations

from pathlib import Path

import pytest

from coalition.depots.qd import required_distance
from coalition.depots.rulebook import RULEBOOK_PATH, Status, load_rulebook, parse_rulebook, rulebook_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "storage-rules.md"


def test_every_record_has_status_and_source() -> None:
    book = load_rulebook()
    for rec in book.all_records():
        assert isinstance(rec.status, Status)
        assert rec.source.strip(), rec.id


def test_verifying_a_value_is_a_data_change_only() -> None:
    text = RULEBOOK_PATH.read_text()
    assert required_distance("1.1", 8000, "VBD").unverified == ("iatg.1.1.VBD", "iatg.1.1.VBD.min")
    verified = text.replace(
        "k: 44.4, status: U,", "k: 44.4, status: V-S,"
    ).replace("relation: VBD, min_m: 270, status: U,", "relation: VBD, min_m: 270, status: V-S,")
    book = parse_rulebook(verified)
    req = required_distance("1.1", 8000, "VBD", book=book)
    assert req.unverified == () and req.required_m == 888
    # and a corrected value flows through without code changes
    changed = parse_rulebook(text.replace("relation: IBD, formula: cube_root, k: 22.2,",
                                          "relation: IBD, formula: cube_root, k: 20.0,"))
    assert required_distance("1.1", 8000, "IBD", book=changed).required_m == 400


def test_us_profile_borrows_and_flags() -> None:
    vbd = required_distance("1.1", 8000, "VBD", profile="us-desr")
    assert any("borrowed" in u for u in vbd.unverified)
    ibd = required_distance("1.1", 8000, "IBD", profile="us-desr")
    assert ibd.rule == "us.1.1.IBD" and ibd.required_m == 381 and ibd.governs == "minimum"


def test_unknown_profile_is_bad_input() -> None:
    from coalition.errors import InputError

    with pytest.raises(InputError):
        required_distance("1.1", 8000, "IBD", profile="nato-2")


def test_docs_table_is_generated_from_the_rulebook() -> None:
    doc = DOC.read_text()
    assert rulebook_markdown(load_rulebook()) in doc, "regenerate: coalition depots rules --markdown"


def test_asymmetric_mixing_table_is_rejected() -> None:
    text = RULEBOOK_PATH.read_text().replace('K: ". . . . . . . . . X . . ."', 'K: ". . . . . . . . . X . . X"', 1)
    with pytest.raises(ValueError, match="not symmetric"):
        parse_rulebook(text)
