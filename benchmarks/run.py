"""`make bench`: run every benchmarks/bench_*.py and print one table of figures.

Each module's ``main()`` returns rows {name, value, unit, target, ok}. Figures are
ratios measured in the same run (the machine is shared and noisy), never asserted in tests.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("GLACIER_PROGRESS", "0")


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    only = set(argv)
    modules = sorted(p.stem for p in HERE.glob("bench_*.py"))
    table: list[tuple[str, dict]] = []
    failed = []
    print(f"machine: {machine()}\n")
    for name in modules:
        area = name.removeprefix("bench_")
        if only and area not in only:
            continue
        print(f"== {area}", flush=True)
        try:
            rows = importlib.import_module(name).main() or []
        except Exception:
            traceback.print_exc()
            failed.append(area)
            continue
        table.extend((area, row) for row in rows)
    print("\nsummary")
    for area, row in table:
        flag = "ok  " if row["ok"] else "MISS"
        print(f"  [{flag}] {area:<10} {row['name']}: {row['value']} {row['unit']} (target {row['target']})")
    if failed:
        print(f"benchmarks that crashed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
