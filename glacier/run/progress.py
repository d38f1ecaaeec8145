"""A ``tqdm.auto`` progress bar driven by run events."""

from __future__ import annotations

from typing import Any

from glacier.run.events import RunEvent

__all__ = ["ProgressBar"]

_DONE = frozenset({"task_finished", "task_cached"})


class ProgressBar:
    """Subscribe an instance to a run; it advances once per node that finishes (done or
    cached), so a failed run ends short of 100 %, in red."""

    def __init__(self, total: int, desc: str) -> None:
        from tqdm.auto import tqdm

        self._bar: Any = tqdm(total=total, desc=desc, unit="task", leave=True, mininterval=0.1)
        self._seen: set[str] = set()

    def __call__(self, event: RunEvent) -> None:
        if event.kind in _DONE and event.node is not None and event.node not in self._seen:
            self._seen.add(event.node)
            self._bar.update(1)
        elif event.kind in ("run_finished", "run_failed"):
            if event.kind == "run_failed":
                self._bar.colour = "red"
            self._bar.set_postfix_str(event.kind.removeprefix("run_"), refresh=False)
            self._bar.close()
