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
    assert required_distance("1.1", 8000, "VBD").unverified == ("iatg.1.1.VBD", "iatg.1.1.frag")
    # once a primary text confirms both values, nothing is flagged: a status change only
    verified = text.replace(
        "k: 44.4, valid_max_kg: 500000, status: V-S2,", "k: 44.4, valid_max_kg: 500000, status: V-P,"
    ).replace("function: fragment-envelope, min_m: 381, status: U,", "function: fragment-envelope, min_m: 381, status: V-P,")
    book = parse_rulebook(verified)
    req = required_distance("1.1", 8000, "VBD", book=book)
    assert req.unverified == () and req.required_m == 888
    # and a corrected value flows through without code changes
    changed = parse_rulebook(text.replace("relation: PBD, formula: cube_root, k: 8.0,",
                                          "relation: PBD, formula: cube_root, k: 9.0,"))
    assert required_distance("1.1", 8000, "PBD", book=changed).required_m == 180


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
