"""Per-task ``timeout=`` for tasks that run in this process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from glacier.run.limits import TaskTimeoutError, timeout_message

__all__ = ["call_with_timeout"]


def call_with_timeout(name: str, fn: Callable[[], Any], timeout: float) -> Any:
    """Call ``fn()`` and return its value, or raise :class:`TaskTimeoutError` after ``timeout``
    seconds. Python cannot stop a thread: a call that overruns goes on in a background
    (daemon) thread and its result is dropped."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    start = time.monotonic()
    threading.Thread(target=target, name=f"glacier-timeout-{name}", daemon=True).start()
    if not done.wait(timeout):
        raise TaskTimeoutError(timeout_message(name, time.monotonic() - start, timeout, "in this process"))
    if "error" in box:
        raise box["error"]
    return box["value"]
