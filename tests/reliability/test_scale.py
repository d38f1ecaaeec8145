"""Scale: a 10,000-task pipeline builds, displays (payload only) and runs in-process.

Times and peak memory are reported by benchmarks/bench_reliability.py (``make bench``);
this test checks that it works and gives the right answer.
"""

from __future__ import annotations

import pytest

from glacier import pipeline

W, L = 100, 100
MOD = 1_000_003


@pytest.mark.slow
def test_ten_thousand_tasks(local_provider):
    ex = local_provider.local()

    @ex.task()
    def seed(i: int) -> int:
        return i

    @ex.task()
    def combine(a: int, b: int) -> int:
        return (a + b) % MOD

    @ex.task()
    def total(*xs: int) -> int:
        return sum(xs)

    @pipeline(name="wide")
    def wide():
        layer = [seed(i) for i in range(W)]
        for _ in range(L - 1):
            layer = [combine(layer[i], layer[(i + 1) % W]) for i in range(W)]
        return total(*layer)

    graph = wide.graph
    assert len(graph.nodes) == W * L + 1 and len(graph.edges) == 2 * W * (L - 1) + W

    bundle = wide._repr_mimebundle_()
    assert set(bundle) >= {"text/plain", "text/html"}
    assert "display failed" not in bundle["text/plain"]
    assert sum(len(v) for v in bundle.values() if isinstance(v, str)) < 50_000_000

    expected = list(range(W))
    for _ in range(L - 1):
        expected = [(expected[i] + expected[(i + 1) % W]) % MOD for i in range(W)]
    assert wide.run(mode="local") == sum(expected)
    record = wide.last_run
    assert record.status == "done" and record.by_status("done") == list(graph.nodes)
    assert "display failed" not in record._repr_mimebundle_()["text/plain"]
