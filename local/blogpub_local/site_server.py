"""Serves the site bucket over HTTP the way the CloudFront distribution does."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

NOT_FOUND_KEY = "404.html"


def object_key_candidates(request_path: str) -> list[str]:
    """Bucket keys a viewer path may name, most specific first.

    "/a/b/" -> ["a/b/index.html"]; "/a/b" -> ["a/b", "a/b/index.html"]; paths arrive
    percent-encoded (CJK) and are decoded as UTF-8.
    """
    path = unquote(urlsplit(request_path).path, encoding="utf-8", errors="replace")
    key = path.lstrip("/")
    if key == "" or key.endswith("/"):
        return [f"{key}index.html"]
    return [key, f"{key}/index.html"]


class SiteServer:
    """A threaded HTTP server in front of one bucket: index documents and the 404 page."""

    def __init__(self, s3_client: Any, bucket: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="site-server", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fetch(self, request_path: str) -> tuple[int, dict[str, Any] | None]:
        """(status, GetObject response) for a viewer path; None when not even 404.html exists."""
        for key in object_key_candidates(request_path):
            found = self._get(key)
            if found is not None:
                return 200, found
        return 404, self._get(NOT_FOUND_KEY)

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "403"):
                return None
            raise
        return response

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class SiteRequestHandler(BaseHTTPRequestHandler):
            server_version = "blogpub-local-cloudfront"

            def do_GET(self) -> None:
                self._respond(with_body=True)

            def do_HEAD(self) -> None:
                self._respond(with_body=False)

            def _respond(self, *, with_body: bool) -> None:
                status, found = site.fetch(self.path)
                if found is None:
                    body, content_type, extra = b"Not Found", "text/plain; charset=utf-8", {}
                else:
                    body = found["Body"].read()
                    content_type = found.get("ContentType") or "application/octet-stream"
                    extra = {"ETag": found.get("ETag", "")}
                    if found.get("CacheControl"):
                        extra["Cache-Control"] = found["CacheControl"]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in extra.items():
                    if value:
                        self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the stack's stderr is for function logs."""

        return SiteRequestHandler
