"""Displays of providers, buckets, executors and tasks (text and HTML, no secrets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glacier.display._html import card, esc, fmt_signature, fmt_uri, fmt_value, kv_rows, table

if TYPE_CHECKING:
    from glacier.provider import Provider
    from glacier.resources.bucket import Bucket
    from glacier.resources.executor import Executor
    from glacier.task import Task

__all__ = ["provider_bundle", "bucket_bundle", "executor_bundle", "task_bundle", "bucket_exists"]


def _settings(facts: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in facts.items() if k not in skip and v not in (None, "", [], {})}


def provider_bundle(provider: Provider) -> dict[str, Any]:
    facts = provider.describe()
    cloud = facts.get("cloud", provider.cloud)
    settings = _settings(facts, ("cloud", "config", "buckets", "executors"))
    where = ", ".join(f"{k}={fmt_value(v)}" for k, v in settings.items())
    lines = [f"Provider: {cloud} ({facts['config']}){' ' + where if where else ''}"]
    lines.append(f"  storage ({len(facts['buckets'])}):")
    for b in facts["buckets"]:
        cfg = f"  [{b['config']}]" if b["config"] else ""
        lines.append(f"    {b['name']}  {b['uri']}{cfg}")
    lines.append(f"  execution ({len(facts['executors'])}):")
    for e in facts["executors"]:
        tasks = ", ".join(e["tasks"]) or "(no tasks)"
        lines.append(f"    {e['name']}  {e['kind']} on {e['service']}  tasks: {tasks}")
    bucket_rows = [(b["name"], b["uri"], b["config"] or "default") for b in facts["buckets"]]
    exec_rows = [
        (
            f"<b>{esc(e['name'])}</b>",
            esc(e["kind"]),
            esc(e["service"]),
            f"<code>{esc(fmt_value(_settings(e['settings'], ())))}</code>",
            esc(", ".join(e["tasks"]) or "-"),
        )
        for e in facts["executors"]
    ]
    body = (
        kv_rows(settings)
        + f"<div><b>Storage</b> <span class='muted'>({len(bucket_rows)})</span></div>"
        + (
            table(("bucket/path", "URI", "config"), bucket_rows)
            if bucket_rows
            else "<div class='muted'>none yet: provider.bucket(...)</div>"
        )
        + f"<div><b>Execution</b> <span class='muted'>({len(exec_rows)})</span></div>"
        + (
            table(("name", "kind", "service", "settings", "tasks"), exec_rows, raw=True)
            if exec_rows
            else "<div class='muted'>none yet: provider.local(), .serverless(), .vm(), .cluster()</div>"
        )
    )
    return {
        "text/plain": "\n".join(lines),
        "text/html": card(f"Provider · {cloud} ({facts['config']})", body),
    }


#: Seconds a display waits to learn whether a remote object exists.
EXISTS_TIMEOUT = 2.0


def bucket_exists(bucket: Bucket, timeout: float = EXISTS_TIMEOUT) -> bool | None:
    """Whether the object exists; ``None`` when that cannot be found out in ``timeout``
    seconds (no access, no network): a display never hangs on storage."""
    if bucket.backend.instant:
        try:
            return bool(bucket.exists())
        except Exception:
            return None
    import threading

    answer: list[bool | None] = [None]

    def ask() -> None:
        try:
            answer[0] = bool(bucket.exists())
        except Exception:
            answer[0] = None

    worker = threading.Thread(target=ask, name="glacier-exists", daemon=True)
    worker.start()
    worker.join(timeout)
    return answer[0]


def bucket_bundle(bucket: Bucket) -> dict[str, Any]:
    exists = bucket_exists(bucket)
    state = {True: "exists", False: "not written yet", None: "unknown (cannot reach storage)"}[exists]
    config = bucket.config.public_dict() if bucket.config is not None else {}
    try:
        fmt = bucket.format
    except Exception:
        fmt = "folder"
    facts = {
        "URI": fmt_uri(bucket.get_uri()),
        "format": fmt,
        "cloud": bucket.provider.cloud,
        "config": type(bucket.config).__name__ if bucket.config is not None else "default",
        "object": state,
    }
    lines = [f"Bucket {bucket.name}"] + [f"  {k}: {v}" for k, v in facts.items()]
    lines += [f"    {k}: {fmt_value(v)}" for k, v in config.items() if v not in (None, "", [], {})]
    body = kv_rows(facts) + (kv_rows(_settings(config, ())) if config else "")
    return {"text/plain": "\n".join(lines), "text/html": card(f"Bucket · {bucket.name}", body)}


def executor_bundle(executor: Executor) -> dict[str, Any]:
    facts = executor.describe()
    settings = _settings(facts["settings"], ())
    head = {"kind": facts["kind"], "service": facts["service"], "config": facts["config"] or "-"}
    lines = [f"Executor {facts['name']}: {facts['kind']} on {facts['service']}"]
    lines += [f"  {k}: {fmt_value(v)}" for k, v in settings.items()]
    lines.append(f"  tasks: {', '.join(facts['tasks']) or '(none yet: @' + facts['name'] + '.task())'}")
    task_rows = [(t.name, fmt_signature(t.name, t.signature)) for t in executor.tasks]
    body = (
        kv_rows(head)
        + (kv_rows(settings) if settings else "")
        + (
            table(("task", "signature"), task_rows)
            if task_rows
            else "<div class='muted'>no tasks bound yet</div>"
        )
    )
    return {"text/plain": "\n".join(lines), "text/html": card(f"Executor · {facts['name']}", body)}


def task_facts(task: Task) -> dict[str, Any]:
    """What a task display shows (also used by the DAG's tooltips)."""
    ex = task.executor
    facts: dict[str, Any] = {
        "signature": fmt_signature(task.name, task.signature),
        "executor": f"{ex.name} ({ex.kind}, {ex.service})",
    }
    if task.retries:
        facts["retries"] = task.retries
    if task.cache:
        facts["cache"] = True
    if task.timeout:
        facts["timeout"] = f"{task.timeout} s"
    if task.reads:
        facts["reads"] = ", ".join(b.name for b in task.reads)
    if task.writes:
        facts["writes"] = ", ".join(b.name for b in task.writes)
    doc = (task.fn.__doc__ or "").strip().splitlines()
    if doc:
        facts["doc"] = doc[0]
    return facts


def task_bundle(task: Task) -> dict[str, Any]:
    facts = task_facts(task)
    lines = [f"Task {facts.pop('signature')}"] + [f"  {k}: {v}" for k, v in facts.items()]
    body = f"<div><code>{esc(fmt_signature(task.name, task.signature))}</code></div>" + kv_rows(facts)
    return {"text/plain": "\n".join(lines), "text/html": card(f"Task · {task.name}", body)}
