"""Deciding, statement by statement, what of a notebook belongs in the module.

Each top-level statement of each code cell (parsed with :mod:`ast`) becomes a
:class:`Piece` of one kind:

``import``      hoisted to the top of the module (deduplicated, notebook order)
``task``        a function decorated with ``@executor.task()``
``pipeline``    a function decorated with ``@pipeline(...)``
``code``        anything else that defines the notebook's state (provider, resources ...)

and is kept, or it is dropped as notebook-only: display-only expressions, previews,
``display()``/``print()``, ``get_ipython()`` calls, imports of Jupyter-only packages
(IPython, ipywidgets, anywidget, glacier_jupyter ...), pipeline runs (remembered as
:class:`Run`), and every later statement that uses a name such a statement bound
(a run's result, a widget).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["Piece", "Run", "PipelineDef", "Analysis", "Analyzer", "NOTEBOOK_ONLY_MODULES"]

#: Packages that only make sense inside Jupyter.
NOTEBOOK_ONLY_MODULES = frozenset(
    {"IPython", "ipywidgets", "anywidget", "glacier_jupyter", "ipykernel", "traitlets", "matplotlib_inline"}
)
#: Calls whose only effect is to show something.
_DISPLAY_CALLS = frozenset({"display", "print", "get_ipython", "HTML", "Markdown", "pprint"})
#: Methods that only compute something to look at, when the result is thrown away.
_PREVIEW_METHODS = frozenset(
    {
        "head",
        "tail",
        "collect",
        "describe",
        "glimpse",
        "show",
        "preview",
        "sample",
        "limit",
        "explain",
        "show_graph",
        "collect_schema",
        "summary",
        "to_polars",
        "_repr_html_",
        "_repr_mimebundle_",
    }
)
#: Functions without effects: a bare call of one only shows its result.
_PURE_FUNCTIONS = frozenset(
    {
        "len",
        "sorted",
        "list",
        "dict",
        "set",
        "tuple",
        "str",
        "repr",
        "type",
        "sum",
        "min",
        "max",
        "any",
        "all",
        "isinstance",
        "range",
        "zip",
        "enumerate",
        "vars",
        "dir",
        "id",
        "hash",
        "round",
        "abs",
    }
)
#: Modules without effects: a bare call into one only shows its result.
_PURE_MODULES = frozenset({"re", "math", "json", "textwrap", "inspect"})
#: The names polars is imported as: a bare ``pl.read_*`` / ``pl.scan_*`` call only shows its result.
_POLARS_NAMES = frozenset({"pl", "polars"})
#: Bucket methods that only read, when the result is thrown away.
_READ_METHODS = frozenset({"read", "scan", "exists", "get_uri", "ls", "describe"})
#: Methods that release something: kept after the main run when they come after it.
_TEARDOWN_METHODS = frozenset({"stop", "close", "shutdown", "terminate", "cleanup", "kill", "disconnect"})
#: Calls that start worker processes: at a module's top level they run again in every
#: process that multiprocessing spawns, so ``python MODULE.py`` fails.
_PROCESS_STARTERS = frozenset({"LocalCluster", "Client", "Pool", "ProcessPoolExecutor"})
#: Pipeline attributes that only exist to be looked at in a notebook.
_PIPELINE_VIEWS = frozenset({"graph", "last_run", "trace", "subscribe"})
#: ``run()`` keywords that only matter in the notebook.
_RUN_NOTEBOOK_ONLY = frozenset({"on_event", "progress"})


@dataclass(slots=True)
class Piece:
    """A kept statement: its source text and what it is."""

    kind: str
    text: str
    cell: int
    name: str | None = None  # the def's name (task, pipeline)
    comment: str = ""  # markdown turned into a comment, placed above
    is_def: bool = False  # a def or class statement
    blank_before: bool = True  # a blank line (or a cell boundary) separates it from the previous piece
    teardown: bool = False  # ``server.stop()``-like: after the main run, it moves into ``__main__``


@dataclass(slots=True)
class PipelineDef:
    """A pipeline defined in the notebook: its Python name and its ``name=``."""

    var: str
    name: str
    cell: int


@dataclass(slots=True)
class Run:
    """A run of a pipeline in the notebook: ``var.run(args)`` (``None`` args: defaults)."""

    var: str
    args: list[str]
    cell: int
    line: int
    position: int = 0  # how many pieces were kept before it


@dataclass(slots=True)
class Analysis:
    """Everything the renderer needs."""

    imports: list[str] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    pipelines: dict[str, PipelineDef] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    dropped: list[tuple[int, int, str]] = field(default_factory=list)  # (cell, line, why)
    notes: list[tuple[int, int, str]] = field(default_factory=list)  # (cell, line, warning)


class Analyzer:
    """Feed it cells in order with :meth:`add`; read :attr:`analysis`."""

    def __init__(self) -> None:
        self.analysis = Analysis()
        self._tainted: set[str] = set()
        self._imports_seen: set[str] = set()
        self._factories: set[str] = set()  # functions that build and return pipelines
        self._made: set[str] = set()  # names assigned from a factory's result

    # -- public --------------------------------------------------------------------------
    def taint(self, names: set[str]) -> None:
        """Mark ``names`` as notebook-only (bound by something that is not exported)."""
        self._tainted |= names

    def add(
        self, tree: ast.Module, source: str, cell: int, *, force: bool = False, comment: str = ""
    ) -> None:
        """Classify the statements of one parsed cell. ``force``: keep all but runs."""
        lines = source.split("\n")
        body = tree.body
        previous_end = 0
        first_kept = True
        kept_before = False
        for i, stmt in enumerate(body):
            start = _start_line(stmt)
            shares_line = (i > 0 and body[i - 1].end_lineno == stmt.lineno) or (
                i + 1 < len(body) and body[i + 1].lineno == stmt.end_lineno
            )
            piece = self._classify(stmt, cell, source, force=force)
            if piece is not None:
                kind, name = piece
                comments = [] if shares_line else _leading_comments(lines, start, previous_end)
                if shares_line:
                    text = ast.get_source_segment(source, stmt) or ""
                else:
                    text = "\n".join(comments + lines[start - 1 : stmt.end_lineno])
                gap = lines[previous_end : start - 1 - len(comments)]
                blank = not kept_before or any(not line.strip() for line in gap)
                if kind == "import":
                    key = ast.dump(stmt)
                    if key not in self._imports_seen:
                        self._imports_seen.add(key)
                        self.analysis.imports.append(text)
                else:
                    attach = comment if first_kept and kind in ("task", "pipeline") else ""
                    is_def = isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                    teardown = (
                        isinstance(stmt, ast.Expr)
                        and isinstance(stmt.value, ast.Call)
                        and isinstance(stmt.value.func, ast.Attribute)
                        and stmt.value.func.attr in _TEARDOWN_METHODS
                    )
                    self.analysis.pieces.append(
                        Piece(kind, text, cell, name, attach, is_def, blank, teardown)
                    )
                    first_kept = False
                    kept_before = True
            previous_end = stmt.end_lineno or stmt.lineno

    # -- classification ------------------------------------------------------------------
    def _classify(
        self, stmt: ast.stmt, cell: int, source: str, *, force: bool
    ) -> tuple[str, str | None] | None:
        a = self.analysis
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            roots = _import_roots(stmt)
            bound = _import_names(stmt)
            if roots & NOTEBOOK_ONLY_MODULES:
                self._drop(stmt, cell, "Jupyter-only import", bound)
                return None
            self._tainted -= bound
            return ("import", None)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._tainted.discard(stmt.name)
            missing = sorted(_free_names(stmt) & self._tainted)
            if missing:
                names = ", ".join(missing)
                a.notes.append(
                    (
                        cell,
                        stmt.lineno,
                        f"{stmt.name} uses {names}, which the module does not define (it comes from "
                        "a statement the export leaves out, such as a run, a preview or a widget)",
                    )
                )
            if isinstance(stmt, ast.ClassDef):
                return ("code", stmt.name)
            pipeline_name = _pipeline_decorator(stmt)
            if pipeline_name is not None:
                a.pipelines[stmt.name] = PipelineDef(stmt.name, pipeline_name or stmt.name, cell)
                return ("pipeline", stmt.name)
            if any(_is_task_decorator(d) for d in stmt.decorator_list):
                a.pipelines.pop(stmt.name, None)
                return ("task", stmt.name)
            a.pipelines.pop(stmt.name, None)
            if any(
                isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _pipeline_decorator(n) is not None
                for n in ast.walk(stmt)
                if n is not stmt
            ):
                self._factories.add(stmt.name)
            return ("code", stmt.name)
        # a statement that runs something at the top level
        runs = list(self._runs_in(stmt, cell, source))
        bound = _bound_names(stmt)
        if runs:
            a.runs.extend(runs)
            self._drop(stmt, cell, "pipeline run", bound)
            return None
        if isinstance(stmt, ast.Assign) and (made := _pipeline_assignment(stmt)) is not None:
            var, name = made
            a.pipelines[var] = PipelineDef(var, name or var, cell)
            self._tainted.discard(var)
            return ("pipeline", var)
        if force:
            self._tainted -= bound
            return ("code", None)
        why = self._notebook_only(stmt)
        if why is not None:
            self._drop(stmt, cell, why, bound)
            return None
        for var in bound:
            a.pipelines.pop(var, None)
        self._tainted -= bound
        self._made -= bound
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _callee_name(node.func) in _PROCESS_STARTERS:
                a.notes.append(
                    (
                        cell,
                        node.lineno,
                        f"{_callee_name(node.func)}(...) starts worker processes when the module is "
                        "imported, and again in every process multiprocessing spawns, so "
                        "`python MODULE.py` fails; let Glacier start the cluster at run time "
                        "(DaskConfig() without an address) or tag the cell glacier-skip",
                    )
                )
                break
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(stmt.value, ast.Call):
            if isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in self._factories:
                self._made |= bound  # `etl, out = build(provider)`: etl may be a pipeline
        return ("code", None)

    def _notebook_only(self, stmt: ast.stmt) -> str | None:
        """Why ``stmt`` is notebook-only, or ``None`` if the module needs it."""
        used = _loaded_names(stmt)
        if used & self._tainted:
            return f"uses {', '.join(sorted(used & self._tainted))}, which the module does not have"
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and _call_root_name(node.func) == "get_ipython":
                return "get_ipython() call"
            if (
                isinstance(node, ast.Attribute)
                and node.attr in _PIPELINE_VIEWS
                and isinstance(node.value, ast.Name)
                and node.value.id in self.analysis.pipelines
            ):
                return f"looks at {node.value.id}.{node.attr}"
        if isinstance(stmt, ast.Expr):
            value = stmt.value
            if isinstance(value, ast.Await):
                value = value.value
            if not isinstance(value, ast.Call):
                return "display-only expression"
            if isinstance(value.func, ast.Name) and value.func.id in _DISPLAY_CALLS:
                return f"{value.func.id}() call"
            if isinstance(value.func, ast.Name) and value.func.id in _PURE_FUNCTIONS:
                return "display-only expression"
            if (
                isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id in _PURE_MODULES
            ):
                return "display-only expression"
            if (
                isinstance(value.func, ast.Attribute)
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id in _POLARS_NAMES
                and value.func.attr.startswith(("read_", "scan_"))
            ):
                return f"preview ({value.func.value.id}.{value.func.attr}())"
            if isinstance(value.func, ast.Attribute) and value.func.attr in _PREVIEW_METHODS | _READ_METHODS:
                return f"preview (.{value.func.attr}())"
        if isinstance(stmt, ast.Assert):
            return "a check of the notebook's state (assert)"
        return None

    def _runs_in(self, stmt: ast.stmt, cell: int, source: str) -> Iterator[Run]:
        pipelines = self.analysis.pipelines
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            var = None
            if isinstance(func, ast.Attribute) and func.attr == "run" and isinstance(func.value, ast.Name):
                var = func.value.id
            elif isinstance(func, ast.Name):  # calling a pipeline runs it
                var = func.id
            if (
                var is not None
                and var not in pipelines
                and var in self._made
                and isinstance(func, ast.Attribute)
            ):
                pipelines[var] = PipelineDef(var, var, cell)  # made by a factory, run here
            if var is None or var not in pipelines:
                continue
            args = [_segment(source, arg) for arg in node.args]
            args += [
                f"**{_segment(source, kw.value)}"
                if kw.arg is None
                else f"{kw.arg}={_segment(source, kw.value)}"
                for kw in node.keywords
                if kw.arg not in _RUN_NOTEBOOK_ONLY
            ]
            yield Run(var, args, cell, node.lineno, len(self.analysis.pieces))

    def _drop(self, stmt: ast.stmt, cell: int, why: str, bound: set[str]) -> None:
        self.analysis.dropped.append((cell, stmt.lineno, why))
        self._tainted |= bound
        for var in bound:
            self.analysis.pipelines.pop(var, None)


# -- helpers ---------------------------------------------------------------------------------
def _segment(source: str, node: ast.expr) -> str:
    """The expression as written (one line), or re-generated if that is not possible."""
    text = ast.get_source_segment(source, node)
    return text if text and "\n" not in text else ast.unparse(node)


def _start_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", None) or []
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def _leading_comments(lines: list[str], start: int, previous_end: int) -> list[str]:
    """The comment lines right above line ``start`` (1-based), after ``previous_end``."""
    out: list[str] = []
    i = start - 2
    while i >= previous_end and lines[i].lstrip().startswith("#"):
        out.append(lines[i])
        i -= 1
    return out[::-1]


def _import_roots(stmt: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(stmt, ast.Import):
        return {alias.name.split(".")[0] for alias in stmt.names}
    return {(stmt.module or "").split(".")[0]} if stmt.level == 0 else set()


def _import_names(stmt: ast.Import | ast.ImportFrom) -> set[str]:
    return {(alias.asname or alias.name).split(".")[0] for alias in stmt.names}


def _decorator_call(d: ast.expr) -> tuple[ast.expr, ast.Call | None]:
    return (d.func, d) if isinstance(d, ast.Call) else (d, None)


def _pipeline_decorator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``""`` for ``@pipeline`` without a name, the name for ``@pipeline(name=...)``, else ``None``."""
    for d in fn.decorator_list:
        func, call = _decorator_call(d)
        if _is_pipeline_ref(func):
            return _name_kwarg(call) or ""
    return None


def _is_pipeline_ref(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "pipeline") or (
        isinstance(func, ast.Attribute) and func.attr == "pipeline"
    )


def _name_kwarg(call: ast.Call | None) -> str | None:
    if call is None:
        return None
    for kw in call.keywords:
        if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
            return kw.value.value
    return None


def _is_task_decorator(d: ast.expr) -> bool:
    func, _ = _decorator_call(d)
    return isinstance(func, ast.Attribute) and func.attr == "task"


def _pipeline_assignment(stmt: ast.Assign) -> tuple[str, str | None] | None:
    """``etl = pipeline(name="etl")(fn)`` or ``etl = pipeline(fn)``."""
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return None
    value = stmt.value
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Call) and _is_pipeline_ref(value.func.func):
        return stmt.targets[0].id, _name_kwarg(value.func)
    if _is_pipeline_ref(value.func) and value.args:
        return stmt.targets[0].id, _name_kwarg(value)
    return None


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _call_root_name(func: ast.expr) -> str | None:
    while True:
        if isinstance(func, ast.Attribute):
            func = func.value
        elif isinstance(func, ast.Call):
            func = func.func
        elif isinstance(func, ast.Subscript):
            func = func.value
        elif isinstance(func, ast.Name):
            return func.id
        else:
            return None


def _free_names(definition: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    """Names a definition reads but does not bind itself (roughly: its globals)."""
    loads: set[str] = set()
    local: set[str] = set()
    for node in ast.walk(definition):
        if isinstance(node, ast.Name):
            (loads if isinstance(node.ctx, ast.Load) else local).add(node.id)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not definition
        ):
            local.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            local |= _import_names(node)
    return loads - local


def _loaded_names(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_names(stmt: ast.stmt) -> set[str]:
    names = {
        n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))
    }
    for node in ast.walk(stmt):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= _import_names(node)
    return names
