"""Helpers of the lineage tests (importable, unlike conftest): a receiver, the spec validator."""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Receiver", "start_receiver", "SpecValidator", "SCHEMAS", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"


@dataclass
class Receiver:
    """What the receiver got: parsed events and the headers of each request."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)

    @property
    def events(self) -> list[dict[str, Any]]:
        """Everything received, once the runs so far have sent their events (they are sent in
        the background)."""
        from glacier.lineage import flush

        assert flush(timeout=60), "lineage events were not sent within 60 s"
        return self.received

    def of(self, job: str) -> list[dict[str, Any]]:
        """Events of one job, in arrival order."""
        return [e for e in self.events if e["job"]["name"] == job]

    def types(self, job: str) -> list[str]:
        return [e["eventType"] for e in self.of(job)]

    def final(self, job: str) -> dict[str, Any]:
        """The last event of ``job``."""
        return self.of(job)[-1]


def start_receiver() -> tuple[http.server.ThreadingHTTPServer, Receiver]:
    """An HTTP server on 127.0.0.1 that records every POSTed body."""
    got = Receiver(url="")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real consumer answers

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            with lock:
                got.bodies.append(body)
                got.received.append(json.loads(body))
                got.headers.append(dict(self.headers))
                got.paths.append(self.path)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    got.url = f"http://127.0.0.1:{server.server_port}"
    return server, got


class SpecValidator:
    """Validates events against the OpenLineage spec: the event, then every facet."""

    def __init__(self) -> None:
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        documents = [json.loads(p.read_text()) for p in sorted(SCHEMAS.rglob("*.json"))]
        self.documents = {d["$id"]: d for d in documents}
        self.registry = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in documents)
        self.core = Draft202012Validator(
            self.documents["https://openlineage.io/spec/2-0-2/OpenLineage.json"], registry=self.registry
        )
        self._validator = Draft202012Validator

    def facet(self, key: str, facet: dict[str, Any]) -> None:
        url = facet["_schemaURL"]
        document = self.documents.get(url.split("#", 1)[0])
        assert document is not None, f"facet {key!r}: no schema {url} in tests/lineage/schemas"
        assert key in document.get("properties", {}), f"facet key {key!r} is not the one {url} defines"
        self._validator({"$ref": url}, registry=self.registry).validate(facet)

    def __call__(self, event: dict[str, Any]) -> None:
        self.core.validate(event)
        groups = [event["run"].get("facets", {}), event["job"].get("facets", {})]
        for dataset in event.get("inputs", []):
            groups += [dataset.get("facets", {}), dataset.get("inputFacets", {})]
        for dataset in event.get("outputs", []):
            groups += [dataset.get("facets", {}), dataset.get("outputFacets", {})]
        for group in groups:
            for key, facet in group.items():
                self.facet(key, facet)
