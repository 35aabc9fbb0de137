"""The source-scanning tests' one shared piece: which AST nodes of a module run.

Imports under ``if TYPE_CHECKING:`` are for type checkers only; the tests that guard what a
module loads at run time (the offline verifier's isolation, the package map) skip them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except those inside an ``if TYPE_CHECKING:`` block."""
    static = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
              and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
              for n in ast.walk(block)}
    return (n for n in ast.walk(tree) if id(n) not in static)
