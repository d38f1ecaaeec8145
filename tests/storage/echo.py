"""A storage endpoint that answers every request with an error echoing what it was given.

Some servers (and proxies in front of them) repeat request headers or other text in their
error messages. :class:`EchoServer` answers each request with HTTP 400 in the cloud's own
error format (S3 XML, Azure XML with ``x-ms-error-code``, GCS JSON) whose message holds the
request's ``Authorization`` and ``X-Amz-Security-Token`` headers and ``echo``, any text the
test chooses (a configured secret). The libraries turn that body into their exception
text, so the message Glacier gets contains the secret verbatim. A GCS token request
(``POST /token``) gets an access token, so service-account credentials reach the bucket call.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

__all__ = ["EchoServer"]


class EchoServer:
    """``with EchoServer("s3", echo="...") as server: ... server.endpoint ...``"""

    def __init__(self, cloud: str, *, echo: str = "") -> None:
        self.cloud = cloud
        self.echo = echo
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                owner.requests += 1
                if self.command == "POST" and self.path.startswith("/token"):
                    self.send(200, "application/json", json.dumps(_ACCESS_TOKEN).encode())
                    return
                said = (
                    f"{owner.echo} Authorization: {self.headers.get('Authorization')} "
                    f"token: {self.headers.get('X-Amz-Security-Token')}"
                )
                self.send(400, *owner.body(said))

            def send(self, status: int, ctype: str, body: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")  # the body, if any, is never read
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(body)
                    except OSError:
                        pass

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def body(self, said: str) -> tuple[str, bytes, dict[str, str]]:
        if self.cloud == "gcs":
            error = {"code": 400, "message": said, "errors": [{"message": said, "reason": "invalid"}]}
            return "application/json", json.dumps({"error": error}).encode(), {}
        code = "InvalidHeaderValue" if self.cloud == "azure" else "InvalidArgument"
        xml = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{said}</Message></Error>"
        extra = {"x-ms-error-code": code} if self.cloud == "azure" else {}
        return "application/xml", xml.encode(), extra

    def __enter__(self) -> EchoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


_ACCESS_TOKEN = {"access_token": "ya29.echo-access-token", "expires_in": 3600, "token_type": "Bearer"}
