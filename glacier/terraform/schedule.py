"""How an orchestrator without dependency edges runs a DAG exactly: chains of tasks.

Workflows (GCP) has sequences and fork-join ``parallel`` steps but no "run after these".
The steps of a flow are cut into chains along its edges, one parallel branch each: a task
follows one of its own inputs in its chain and waits, by a shared flag, for the inputs that
run in other chains. So each task starts as soon as its own inputs are ready and no branch
waits for an unrelated task. Tasks of one VM also wait for the VM's previous task: a VM runs
one task at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from glacier.terraform.plan import Flow, Step

__all__ = ["Chain", "chains", "waits", "vm_order"]


@dataclass
class Chain:
    """Steps one branch runs in order (each follows one of its inputs)."""

    steps: list[Step]

    @property
    def tail(self) -> str:
        return self.steps[-1].ident


def chains(flow: Flow) -> list[Chain]:
    """The flow's steps cut into chains along its edges, in call (topological) order.

    A step joins the chain of its first input that still ends there (so a chain's steps
    follow their inputs); a step with no such input starts a new chain.
    """
    out: list[Chain] = []
    for step in flow.steps:
        home = next((c for u in step.upstream for c in out if c.tail == u), None)
        if home is None:
            out.append(Chain([step]))
        else:
            home.steps.append(step)
    return out


def vm_order(flow: Flow, is_vm: dict[str, bool]) -> dict[str, str]:
    """``{step: the previous step on the same VM}``: a VM runs one task at a time."""
    last: dict[str, str] = {}
    out: dict[str, str] = {}
    for step in flow.steps:
        if is_vm.get(step.executor):
            if step.executor in last:
                out[step.ident] = last[step.executor]
            last[step.executor] = step.ident
    return out


def waits(flow: Flow, found: list[Chain], after: dict[str, str]) -> dict[str, list[str]]:
    """``{step: steps of other chains (or earlier in its own) it must wait for}``.

    The step before it in its chain needs no wait (the chain runs in order); every other
    input does, and so does the previous task of its VM (``after``).
    """
    before = {}
    for chain in found:
        for prev, step in zip([None, *chain.steps], chain.steps, strict=False):
            before[step.ident] = prev.ident if prev is not None else None
    out: dict[str, list[str]] = {}
    for step in flow.steps:
        needs = [*step.upstream, *([after[step.ident]] if step.ident in after else [])]
        others = sorted({u for u in needs if u != before[step.ident]})
        if others:
            out[step.ident] = others
    return out
