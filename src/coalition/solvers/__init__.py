"""Solver adapters: one small typed wrapper per solver (only HiGHS today)."""
