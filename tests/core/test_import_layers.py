"""No module-level import cycle inside ``glacier``; every module imports on its own.

What counts as a cycle (the definition this file checks): module ``A`` *needs* module ``B``
when running ``A``'s module-level code (package ``__init__`` files included; function bodies
and ``if TYPE_CHECKING:`` blocks excluded) cannot finish before ``B`` has finished:

- ``import a.b`` and ``from a.b import x`` need ``a.b`` and, before it, ``a``: Python runs a
  parent package before its submodules. A package that is one of ``A``'s own parents is
  already running when ``A`` runs, so naming it on the way needs nothing more;
- ``from pkg import sub`` where ``sub`` is a submodule needs ``pkg.sub``; where ``sub`` is a
  name defined in ``pkg/__init__.py`` it needs ``pkg`` itself, even when ``pkg`` is ``A``'s
  own parent (the name may not be bound yet: "partially initialized module").

A cycle of *needs* is a module-level import cycle: some first import of one of its modules
meets another half-run. A package ``__init__`` re-exporting its submodules, whose submodules
import their siblings, is not one (each submodule needs only siblings, the package is
already running); a submodule taking a name from its package's ``__init__`` while that
``__init__`` imports the submodule is one.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of ``root/package``."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _needs(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of ``modules`` that ``name`` needs finished before it can finish (see above)."""
    is_package = path.name == "__init__.py"
    parts = name.split(".")
    parents = {".".join(parts[:i]) for i in range(1, len(parts) + is_package)}
    found: set[str] = set()

    def need(target: str) -> None:
        if target in modules and target != name:
            found.add(target)

    def need_path(target: str) -> None:
        """``target``'s packages that are not already running (``target`` not included)."""
        bits = target.split(".")
        for i in range(1, len(bits)):
            if (prefix := ".".join(bits[:i])) not in parents:
                need(prefix)

    def visit(body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    need_path(alias.name)
                    if alias.name not in parents:
                        need(alias.name)
            elif isinstance(stmt, ast.ImportFrom):
                base = stmt.module or ""
                if stmt.level:
                    anchor = parts if is_package else parts[:-1]
                    anchor = anchor[: len(anchor) - (stmt.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                need_path(base)
                for alias in stmt.names:
                    if f"{base}.{alias.name}" in modules:
                        need(f"{base}.{alias.name}")
                        if base not in parents:
                            need(base)
                    else:  # a name bound by base's own code
                        need(base)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue  # runs when called
            elif isinstance(stmt, ast.If):
                if not _is_type_checking(stmt.test):
                    visit(stmt.body)
                visit(stmt.orelse)
            else:  # class bodies, try, with, for, while: their blocks run at import
                for field in ("body", "orelse", "finalbody"):
                    visit(getattr(stmt, field, []))
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body)

    visit(ast.parse(path.read_text()).body)
    return found


def _graph(root: Path, package: str) -> dict[str, set[str]]:
    modules = _modules(root, package)
    return {name: _needs(path, name, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := dfs(node)):
            return found
    return None


def test_no_module_level_import_cycle_inside_glacier():
    graph = _graph(ROOT, "glacier")
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


#: Small packages and whether Python can import every one of their modules first.
_PACKAGES = {
    # the package re-exports its submodules, which import a sibling: fine in any order
    "reexport": (
        {
            "__init__.py": "from pkg.a import f\nfrom pkg import b\n",
            "a.py": "from pkg.b import g\nimport pkg.b\n\ndef f():\n    return g()\n",
            "b.py": "from . import c\n\ndef g():\n    return 1\n",
            "c.py": "",
        },
        True,
    ),
    # a submodule takes a name its package binds after importing it: a real cycle
    "name_from_parent": (
        {
            "__init__.py": "from pkg.a import f\nLIMIT = 3\n",
            "a.py": "from pkg import LIMIT\n\ndef f():\n    pass\n",
        },
        False,
    ),
    # two modules importing each other's names: a real cycle
    "mutual": (
        {"__init__.py": "", "a.py": "from pkg.b import g\nf = 1\n", "b.py": "from pkg.a import f\ng = 2\n"},
        False,
    ),
    # the same, but one side imports inside a function or only for typing: fine
    "deferred": (
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nfrom pkg.b import g\nif TYPE_CHECKING:\n    from pkg.b import h\n",
            "b.py": "def g():\n    from pkg.a import g as _\n\ndef h():\n    pass\n",
        },
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(_PACKAGES))
def test_the_definition_matches_what_python_can_import(case, tmp_path):
    files, importable = _PACKAGES[case]
    (tmp_path / "pkg").mkdir()
    for name, text in files.items():
        (tmp_path / "pkg" / name).write_text(textwrap.dedent(text))
    assert (_cycle(_graph(tmp_path, "pkg")) is None) is importable
    names = list(_modules(tmp_path, "pkg"))
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'pkg' or m.startswith('pkg.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode == 0) is importable, done.stderr[-2000:]


def test_every_module_imports_first_in_a_fresh_interpreter_in_random_order():
    names = [n for n in _modules(ROOT, "glacier") if not n.endswith("__main__")]
    order = random.Random().sample(names, len(names))
    code = (
        "import importlib, sys\n"
        f"for name in {order!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'glacier' or m.startswith('glacier.')]:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"order {order}:\n{done.stderr[-3000:]}"
