"""The planner: one optimisation model from pledges to a time-phased, sustainable, explained plan.

Front doors: :func:`coalition.planner.service.plan_option` (scenario + option + assumptions) and
:func:`coalition.planner.engine.make_plan` (tables-level, for tests and benchmarks). See
``docs/planner/``.
"""
