"""A 1,000-task pipeline of trivial tasks (50 layers of 20, each task fed by two of the
previous layer) for the widget benchmark."""

from __future__ import annotations

from glacier import Provider, pipeline
from glacier.config import LocalConfig


def build_big(base: str, n: int = 1000, width: int = 20) -> object:
    provider = Provider(config=LocalConfig(base_path=base))
    executors = [provider.local(name=f"local_{i}") for i in range(4)]
    tasks = []
    for i, ex in enumerate(executors):

        def step(*xs: int) -> int:
            return sum(xs) + 1

        step.__name__ = f"step_{i}"
        tasks.append(ex.task()(step))

    @pipeline(name="big")
    def big():
        previous: list = []
        layer: list = []
        for i in range(n):
            task = tasks[(i // width) % len(tasks)]
            if not previous:
                layer.append(task())
            else:
                j = i % width
                layer.append(task(previous[j], previous[(j * 7 + 3) % len(previous)]))
            if len(layer) == width:
                previous, layer = layer, []
        return previous[-1] if not layer else layer[-1]

    return big
