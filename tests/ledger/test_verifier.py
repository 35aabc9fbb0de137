"""The offline verifier (coalition.ledger.verifier, ``coalition-verify``): its import isolation
(standard library and ``cryptography`` only). Its behaviour on bundles is tested in
test_export.py, test_bundle_attacks.py, test_completeness.py and test_trust.py."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from importscan import runtime_nodes

#: the offline verifier and the only package modules it may use (each stdlib + cryptography)
OFFLINE = ("coalition.ledger.verifier", "coalition.ledger.bundle", "coalition.ledger.completeness", "coalition.ledger.nationheads",
           "coalition.ledger.checks", "coalition.ledger.canonical", "coalition.ledger.rfc6962",
           "coalition.ledger.notes", "coalition.ledger.trust",
           "coalition.errors", "coalition")  # the one exception tree; the lazy package front door


def test_verifier_imports_only_stdlib_and_cryptography() -> None:
    import importlib

    for name in OFFLINE:
        tree = ast.parse(Path(importlib.import_module(name).__file__).read_text("utf-8"))  # type: ignore[arg-type]
        roots = set()
        for node in runtime_nodes(tree):  # what runs must stay offline-safe
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, "no relative imports"
                mod = node.module or ""
                if mod.startswith("coalition."):
                    assert mod in OFFLINE, f"{name} imports {mod}"
                    continue
                roots.add(mod.split(".")[0])
        third_party = {r for r in roots if r not in sys.stdlib_module_names and r != "__future__"}
        assert third_party <= {"cryptography"}, (name, third_party)
