"""Conditions: named world-state predicates over time.

* :mod:`coalition.conditions.expr` parses condition expressions into a typed, immutable tree
  (``parse``, ``names``, ``instruments``, ``ExpressionError``);
* :mod:`coalition.conditions.engine` evaluates them at a date, three-valued, with explanation
  trees, assumptions and C-day (``ConditionEngine``, ``evaluate``, ``c_day``,
  ``parse_assumptions``).

Nothing is imported here, so that importing the parser does not pull in the engine.
"""
