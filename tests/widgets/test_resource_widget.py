"""ResourceWidget's tree (provider > storage/execution > buckets, executors > tasks)
and its bucket-existence handler."""

from __future__ import annotations

import json

from glacier_jupyter.widgets import ResourceWidget, resource_tree


def _find(item: dict, item_id: str) -> dict | None:
    if item["id"] == item_id:
        return item
    for child in item["children"]:
        if (hit := _find(child, item_id)) is not None:
            return hit
    return None


def test_tree_has_cloud_buckets_executors_and_tasks(ns) -> None:
    tree = resource_tree(ns["provider"])
    assert tree["kind"] == "provider" and tree["details"]["cloud"] == "local"
    storage, execution = tree["children"]
    assert [b["label"] for b in storage["children"]] == ["data/raw.parquet", "data/clean.parquet"]
    raw = _find(tree, "bucket:data/raw.parquet")
    assert raw["details"]["uri"].endswith("data/raw.parquet") and raw["details"]["exists"] is True
    assert _find(tree, "bucket:data/clean.parquet")["details"]["exists"] is False
    lam = _find(tree, "executor:lambda")
    assert lam["details"]["kind"] == "serverless" and lam["details"]["config"] == "LambdaConfig"
    assert lam["details"]["settings"]["memory"] == 1024
    assert [t["label"] for t in lam["children"]] == ["clean", "enrich"]
    assert (
        _find(tree, "task:lambda:clean")["details"]["signature"] == "clean(df: pl.LazyFrame) -> pl.LazyFrame"
    )
    json.dumps(tree)


def test_exists_message(ns) -> None:
    w = ResourceWidget(ns["provider"])
    assert w.handle_message({"type": "exists", "bucket": "data/clean.parquet"}) == {
        "data/clean.parquet": False
    }
    ns["etl"].run()
    assert w.handle_message({"type": "exists", "bucket": "data/clean.parquet"})["data/clean.parquet"] is True
    assert "no bucket" in w.handle_message({"type": "exists", "bucket": "x/y"})["x/y"]
    assert w.handle_message({"type": "nope"}) is None
