"""The layout says what each folder does, and no function of the product is over 80 lines.

Every package of ``pipelines/`` (and of ``tests/``) opens with a docstring saying what it holds;
a function longer than 80 lines, from its ``def`` to its last line (decorators, such as a
command's options, are not its body), does more than one thing and is split where it does.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_LINES = 80


def long_functions(source: str, name: str = "<source>") -> list[str]:
    """``name:line function: N lines`` of every function (or method) over MAX_LINES lines."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_LINES:
                found.append(f"{name}:{node.lineno} {node.name}: {lines} lines")
    return found


def test_no_function_of_the_product_is_over_80_lines() -> None:
    found = [
        problem
        for path in sorted((REPO / "pipelines").rglob("*.py"))
        for problem in long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    ]
    assert found == []


def test_a_function_is_measured_from_its_def_to_its_last_line() -> None:
    body = "".join(f"    x = {i}\n" for i in range(MAX_LINES - 1))
    fits = f"@decorator\n@another\ndef f():\n{body}"
    assert long_functions(fits) == []
    assert long_functions(f"{fits}    y = 1\n") == [f"<source>:3 f: {MAX_LINES + 1} lines"]
    method = textwrap.indent(f"def g(self):\n{body}    y = 1\n", "    ")
    assert long_functions(f"class C:\n{method}") == [f"<source>:2 g: {MAX_LINES + 1} lines"]


def test_every_package_says_what_it_holds() -> None:
    silent = [
        str(init.relative_to(REPO))
        for root in ("pipelines", "tests")
        for init in sorted((REPO / root).rglob("__init__.py"))
        if "node_modules" not in init.parts and not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    ]
    assert silent == []
