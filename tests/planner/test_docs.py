"""The docs name every variable and constraint block the model builds, next to its maths."""

from __future__ import annotations

from pathlib import Path

from coalition.planner.model import build_model
from coalition.planner.schemas import PlanOptions
from coalition.planner.tables import build_tables

from .factory import pledge, requirement, scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "planner" / "model.md"


def test_model_doc_names_every_block_and_its_function():
    sc = scenario(pledges=[pledge("P1", tour=28, recovery=0, rotations=1)], requirements=[requirement("L1")],
                  horizon=112)
    opts = PlanOptions()
    m = build_model(build_tables(sc, "opt", active_from={"P1": 0}, options=opts), opts)
    text = DOCS.read_text()
    for name in list(m.var_blocks) + list(m.con_blocks):
        assert f"`{name}`" in text, name
    for fn in ("define_assign_variables", "define_line_cover_constraints", "define_hub_capacity_constraints",
               "define_corridor_constraints", "define_pledge_constraints", "define_cohesion_constraints",
               "define_objective"):
        assert fn in text, fn
