"""Lineage benchmarks (issue 18): OpenLineage on vs off on the 10M-row ETL.

On: the standard variable ``OPENLINEAGE_URL`` points at a receiver in another process on
127.0.0.1 (the client's real HTTP transport; every event is built, read from the plans and
sent). Off: no configuration. The runs are interleaved and the best of each is compared.
Not configured, a run pays one check of the environment: it is timed on its own, and a fresh
process is checked not to import the OpenLineage client at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import timeit
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _etl import build_pipeline, make_data  # noqa: E402

from glacier.lineage import flush, sender  # noqa: E402

DATA = HERE.parent / ".glacier" / "bench" / "etl"

RECEIVER = """
import http.server
count = 0
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        count += 1
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        body = str(count).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


def _unset() -> None:
    for name in [n for n in os.environ if n.startswith("OPENLINEAGE")]:
        del os.environ[name]


def etl_lineage(repeat: int = 9) -> list[dict]:
    _unset()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        url = f"http://127.0.0.1:{receiver.stdout.readline().strip()}"
        etl = build_pipeline(DATA)
        etl.run(progress=False)  # warm-up: file cache, thread pools
        os.environ["OPENLINEAGE_URL"] = url
        start = time.perf_counter()
        etl.run(progress=False)  # warm-up with lineage: the client's import and first set-up
        first = time.perf_counter() - start
        flush()
        cpu_before = sender.cpu_seconds()
        off, on, sent, cpu_off, cpu_on = [], [], [], [], []
        for _ in range(repeat):
            _unset()
            start, cpu_start = time.perf_counter(), time.process_time()
            etl.run(progress=False)
            off.append(time.perf_counter() - start)
            cpu_off.append(time.process_time() - cpu_start)
            os.environ["OPENLINEAGE_URL"] = url
            start, cpu_start = time.perf_counter(), time.process_time()
            etl.run(progress=False)
            on.append(time.perf_counter() - start)
            flush()
            sent.append(time.perf_counter() - start)
            cpu_on.append(time.process_time() - cpu_start)
        _unset()
        cpu = (sender.cpu_seconds() - cpu_before) / repeat
        with urllib.request.urlopen(url, timeout=5) as response:
            events = int(response.read())
    finally:
        _unset()
        receiver.terminate()
        receiver.wait(timeout=10)
    expected = (repeat + 1) * 12  # pipeline + 5 tasks, START and COMPLETE each
    ratio = min(on) / min(off)
    until_sent = min(sent) / min(off)
    return [
        {
            "name": "etl 10M rows, OpenLineage on (HTTP to a local receiver) / off",
            "value": round(ratio, 3),
            "unit": "x",
            "target": "<= 1.05",
            "ok": ratio <= 1.05 and events == expected,
            "detail": f"on {min(on):.3f}s off {min(off):.3f}s; {events}/{expected} events received; "
            f"first run with lineage (client import) {first:.3f}s",
        },
        {
            "name": "etl 10M rows, OpenLineage on / off, CPU time of the process (all threads)",
            "value": round(min(cpu_on) / min(cpu_off), 3),
            "unit": "x",
            "target": "<= 1.05",
            "ok": min(cpu_on) / min(cpu_off) <= 1.05,
            "detail": f"on {min(cpu_on):.3f}s off {min(cpu_off):.3f}s (on: until the events are sent); "
            "less sensitive than wall time to other load on the machine",
        },
        {
            "name": "etl 10M rows, OpenLineage on: CPU of the sender thread per run / run off",
            "value": round(cpu / min(off), 3),
            "unit": "x",
            "target": "-",
            "ok": True,
            "detail": f"{cpu * 1000:.1f} ms per run (plans read, 12 events built and sent), in the background",
        },
        {
            "name": "etl 10M rows, OpenLineage on, until its events are sent / off",
            "value": round(until_sent, 3),
            "unit": "x",
            "target": "-",
            "ok": True,
            "detail": f"run + flush() {min(sent):.3f}s (events go out in the background; this waits for them)",
        },
    ]


def unconfigured() -> list[dict]:
    """What a run pays when nothing is configured, and what a fresh process imports."""
    _unset()
    from glacier.lineage import observe_run

    etl = build_pipeline(DATA)
    graph = etl.graph
    per_call = min(timeit.repeat(lambda: observe_run(graph, None, dict), number=2000, repeat=5)) / 2000  # type: ignore[arg-type]
    code = (
        "import sys, json, polars as pl\n"
        "from glacier import Provider, pipeline\n"
        "from glacier.config import LocalConfig\n"
        "ex = Provider(config=LocalConfig(base_path='.glacier/bench/off')).local()\n"
        "@ex.task()\n"
        "def one() -> pl.LazyFrame:\n"
        "    return pl.LazyFrame({'x': [1]})\n"
        "@pipeline(name='off')\n"
        "def off():\n"
        "    return one()\n"
        "off.run(progress=False)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('openlineage'))))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=HERE.parent, env=env, capture_output=True, text=True, check=True
    )
    imported = json.loads(out.stdout.strip().splitlines()[-1])
    return [
        {
            "name": "OpenLineage not configured: check per run",
            "value": round(per_call * 1e6, 1),
            "unit": "us/run",
            "target": "<= 50, client not imported",
            "ok": per_call <= 50e-6 and not imported,
            "detail": f"openlineage modules imported by a run: {len(imported)}",
        }
    ]


def main() -> list[dict]:
    make_data(DATA)
    rows = [*etl_lineage(), *unconfigured()]
    for row in rows:
        flag = "ok " if row["ok"] else "MISS"
        print(
            f"[{flag}] {row['name']}: {row['value']} {row['unit']} (target {row['target']})"
            + (f"  [{row['detail']}]" if row.get("detail") else ""),
            flush=True,
        )
    return rows


if __name__ == "__main__":
    main()
