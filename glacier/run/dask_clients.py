"""The Dask client pool: one client per distinct ``DaskConfig``.

``DaskConfig(address="tcp://...")`` connects to a running scheduler (Kubernetes, Coiled,
Dask Gateway ... anything with a scheduler address) and the client of a remote scheduler is
kept for the session (connecting costs ~0.1 s; :func:`close_clients` closes it). A scheduler
on this machine (a ``LocalCluster`` started in the notebook) gets a client per run, closed
after it: no client outlives its cluster (Dask would log "Failed to reconnect to scheduler"
30 s after the cluster closed). ``address=None`` starts a ``distributed.LocalCluster`` for
the run and closes it after.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from glacier.errors import require
from glacier.redact import redact_urls
from glacier.run.main_guard import check_main_guard

if TYPE_CHECKING:
    from glacier.config.execution import DaskConfig

__all__ = ["DaskCluster", "close_clients", "check_reachable"]

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def close_clients(address: str | None = None) -> None:
    """Close the kept clients (of ``address``, or all): call it before stopping a scheduler."""
    with _CLIENTS_LOCK:
        doomed = [a for a in _CLIENTS if address is None or a == address]
        clients = [_CLIENTS.pop(a) for a in doomed]
    for client in clients:
        try:
            client.close()
        except Exception:
            pass


def _kept(address: str) -> bool:
    """Whether the client of ``address`` is kept between runs: not for a loopback address."""
    import ipaddress
    from urllib.parse import urlsplit

    host = urlsplit(address).hostname or ""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host != "localhost"


def check_reachable(executor: str, address: str, record: Any, timeout: float = 3.0) -> None:
    """Fail in seconds, naming the executor and the address, when no scheduler answers."""
    import socket
    from urllib.parse import urlsplit

    from glacier.errors import PipelineError

    parts = urlsplit(address)
    host, port = parts.hostname, parts.port
    if not host or not port:
        return  # not a host:port address (inproc://, ucx ...): let Dask connect
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise PipelineError(
            f"the Dask scheduler of executor {executor!r} at {redact_urls(address)} cannot be reached "
            f"({type(exc).__name__}: {exc}); check the scheduler is running and the address and "
            "port in DaskConfig(address=...) are right. No task was run.",
            record,
        ) from None


class DaskCluster:
    """A client for one ``DaskConfig``: connected to ``address``, or to a LocalCluster it owns."""

    def __init__(self, config: DaskConfig) -> None:
        distributed = require("distributed", "dask", "mode='distributed' with a DaskConfig executor")
        import dask

        self.config = config
        self.cluster: Any = None
        self.owned = not config.address or not _kept(config.address)
        if config.address and self.owned:
            self.client = distributed.Client(config.address, set_as_default=False, timeout="30s")
        elif config.address:
            # clients of running schedulers are kept for the session (connecting costs ~0.1 s)
            with _CLIENTS_LOCK:
                client = _CLIENTS.get(config.address)
                if client is None or client.status not in ("running", "connecting"):
                    client = distributed.Client(config.address, set_as_default=False, timeout="30s")
                    _CLIENTS[config.address] = client
            self.client = client
        else:
            check_main_guard(config.processes)  # workers re-import __main__: refuse an unguarded run
            # a dead worker is one attempt: Glacier's own retries decide what happens next
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self.cluster = distributed.LocalCluster(
                    n_workers=config.n_workers,
                    threads_per_worker=config.threads_per_worker,
                    processes=config.processes,
                    memory_limit=config.memory_limit or "auto",
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # no fixed port 8787 (None still binds it)
                )
            self.client = distributed.Client(self.cluster, set_as_default=False)

    def close(self) -> None:
        if not self.owned:
            return  # a shared client of a remote scheduler: kept
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()
