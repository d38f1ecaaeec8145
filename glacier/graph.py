"""The DAG a pipeline builds by tracing: nodes, placeholders, edges."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.resources.bucket import Bucket
    from glacier.task import Task

__all__ = ["Node", "Output", "Param", "Graph", "tracing", "walk", "rebuild", "substitute"]

_TRACE: contextvars.ContextVar[Graph | None] = contextvars.ContextVar("glacier_trace", default=None)


class _Ref:
    """Base of placeholders: things that stand for a value known only at run time."""

    __slots__ = ()

    def __bool__(self) -> bool:
        raise DefinitionError(
            f"{self!r} has no value while the pipeline is traced: Python `if`/`while` on "
            "task outputs cannot work; put the condition inside a task"
        )

    def __iter__(self) -> Iterator[Any]:
        raise DefinitionError(
            f"{self!r} cannot be iterated while the pipeline is traced: index it "
            "(out[0]) or unpack the values inside a task"
        )


class Output(_Ref):
    """Placeholder for a task call's result inside a pipeline body."""

    __slots__ = ("key", "node")

    def __init__(self, node: Node, key: tuple[Any, ...] = ()) -> None:
        self.node = node
        self.key = key

    def __getitem__(self, item: Any) -> Output:
        return Output(self.node, (*self.key, item))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise DefinitionError(
            f"{self!r} is a placeholder while the pipeline is traced, so `.{name}` cannot be "
            f"used here: pass it to a task and call `.{name}` inside the task"
        )

    def resolve(self, values: dict[str, Any]) -> Any:
        value = values[self.node.id]
        for key in self.key:
            value = value[key]
        return value

    def __repr__(self) -> str:
        suffix = "".join(f"[{k!r}]" for k in self.key)
        return f"<output of {self.node.id}{suffix}>"


class Param(_Ref):
    """Placeholder for a pipeline parameter that has no default (graph-only tracing)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<parameter {self.name}>"


@dataclass(eq=False, slots=True)
class Node:
    """One task call inside a pipeline."""

    id: str
    task: Task
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    upstream: tuple[str, ...] = ()
    reads: tuple[Bucket, ...] = ()
    writes: tuple[Bucket, ...] = ()
    index: int = 0

    @property
    def executor(self) -> Any:
        return self.task.executor

    def __repr__(self) -> str:
        return f"Node({self.id!r}, task={self.task.name!r}, upstream={list(self.upstream)})"


@dataclass(eq=False)
class Graph:
    """Nodes in call order (which is a topological order) plus the returned structure."""

    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    result: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    _names: dict[str, int] = field(default_factory=dict, repr=False)
    _down: tuple[int, dict[str, list[str]]] | None = field(default=None, repr=False)

    def add(
        self, task: Task, args: tuple[Any, ...], kwargs: dict[str, Any], arguments: dict[str, Any]
    ) -> Node:
        """Record a call of ``task``; ``arguments`` maps parameter names to values."""
        bucket_type = _bucket_type()
        count = self._names.get(task.name, 0) + 1
        self._names[task.name] = count
        node_id = task.name if count == 1 else f"{task.name}_{count}"
        upstream: dict[str, None] = {}
        reads: dict[int, Bucket] = {id(b): b for b in task.reads} if task.reads else {}
        writes: dict[int, Bucket] = {id(b): b for b in task.writes} if task.writes else {}
        nodes = self.nodes
        for param, value in arguments.items():
            for item in (value,) if type(value) in _LEAVES else walk(value):
                if type(item) is Output:
                    if nodes.get(item.node.id) is not item.node:
                        raise DefinitionError(
                            f"{task.name}() was given {item!r}, which comes from another pipeline: "
                            "task outputs can only be used inside the pipeline that made them"
                        )
                    upstream[item.node.id] = None
                elif isinstance(item, bucket_type):
                    target = writes if task.param_mode(param) == "write" else reads
                    target[id(item)] = item
        node = Node(
            node_id,
            task,
            args,
            kwargs,
            tuple(upstream),
            tuple(reads.values()),
            tuple(writes.values()),
            len(nodes),
        )
        nodes[node_id] = node
        return node

    # -- queries ---------------------------------------------------------------------
    @property
    def tasks(self) -> list[Node]:
        return list(self.nodes.values())

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(up, node.id) for node in self.nodes.values() for up in node.upstream]

    @property
    def buckets(self) -> list[Bucket]:
        """Every bucket a task reads or writes, in first-use order."""
        seen: dict[int, Bucket] = {}
        for node in self.nodes.values():
            for bucket in (*node.reads, *node.writes):
                seen.setdefault(id(bucket), bucket)
        return list(seen.values())

    def downstream(self) -> dict[str, list[str]]:
        """Node id -> ids of the nodes that take its output (computed once per graph size)."""
        cached = self._down
        if cached is not None and cached[0] == len(self.nodes):
            return cached[1]
        out: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for node in self.nodes.values():
            for up in node.upstream:
                out[up].append(node.id)
        self._down = (len(self.nodes), out)
        return out

    def descendants(self, node_id: str) -> set[str]:
        """Every node that depends on ``node_id``, directly or not."""
        down = self.downstream()
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for child in down[stack.pop()]:
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def ancestors(self, node_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for parent in self.nodes[stack.pop()].upstream:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def returned(self) -> list[str]:
        """Ids of the nodes whose outputs the pipeline returns."""
        return list(dict.fromkeys(o.node.id for o in walk(self.result) if isinstance(o, Output)))

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.nodes

    def __getitem__(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            known = ", ".join(self.nodes) or "(none)"
            raise KeyError(
                f"pipeline {self.name!r} has no task {node_id!r}; its tasks are: {known}"
            ) from None

    def __repr__(self) -> str:
        return f"Graph({self.name!r}, {len(self.nodes)} tasks, {len(self.edges)} edges)"


class tracing:
    """Context manager that records task calls into ``graph``."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._token: contextvars.Token[Graph | None] | None = None

    def __enter__(self) -> Graph:
        self._token = _TRACE.set(self.graph)
        return self.graph

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None
        _TRACE.reset(self._token)


def current_graph() -> Graph | None:
    """The graph being traced, or ``None`` outside a pipeline body."""
    return _TRACE.get()


_LEAVES = frozenset({Output, int, float, str, bool, type(None)})
_BUCKET: list[type] = []


def _bucket_type() -> type:
    if not _BUCKET:
        from glacier.resources.bucket import Bucket

        _BUCKET.append(Bucket)
    return _BUCKET[0]


def walk(value: Any) -> Iterator[Any]:
    """Yield every leaf inside tuples, lists, sets and dicts (dict values, not keys)."""
    if isinstance(value, (tuple, list, set, frozenset)):
        for item in value:
            yield from walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    else:
        yield value


_CONTAINERS = (tuple, list, dict, set, frozenset)


def rebuild(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with every leaf replaced by ``leaf(item)``: the one walk over nested
    tuples (named tuples keep their type), lists, sets and dicts that every part of
    Glacier uses (placeholders, the wire format, the cache)."""
    if type(value) is tuple:  # the common case first: a call's positional arguments
        return tuple([rebuild(v, leaf) for v in value])
    if not isinstance(value, _CONTAINERS):
        return leaf(value)
    if isinstance(value, tuple):
        items = [rebuild(v, leaf) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [rebuild(v, leaf) for v in value]
    if isinstance(value, dict):
        return {k: rebuild(v, leaf) for k, v in value.items()}
    return type(value)(rebuild(v, leaf) for v in value)


def substitute(value: Any, values: dict[str, Any]) -> Any:
    """Replace every placeholder in ``value`` (nested containers too) by its value."""
    if type(value) is tuple:  # a call's arguments (the hot path): flat items resolved inline
        return tuple(
            [
                v.resolve(values)
                if type(v) is Output
                else v
                if not isinstance(v, _CONTAINERS)
                else _nested(v, values)
                for v in value
            ]
        )
    return _nested(value, values)


def _nested(value: Any, values: dict[str, Any]) -> Any:
    return rebuild(value, lambda item: item.resolve(values) if type(item) is Output else item)
