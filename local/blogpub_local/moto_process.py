"""moto in a process of its own, so the functions and moto run on two cores instead of one GIL.

Profiled on a 1,000-post import, moto and its HTTP server held the GIL about half the time the
functions needed it. The child process serves the stack's one endpoint: moto (with
moto_fidelity's patches), the S3 write observer and the origin guard. Over one connection to
the parent it reports each observed S3 write (before the writer gets its answer), each write
that should wake a poller, and, on request, how many S3 writes it is still answering after
every report before it: the parent's idle check is exact. The stack's own paths (the idle
report, Lambda's Invoke) are forwarded to a small server in the parent, where the functions run.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Client, Connection, Listener
from typing import Any
from urllib.parse import urlsplit

from blogpub_local.s3_events import ObservedWrite
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler
from werkzeug.serving import BaseWSGIServer

# Requests after which a poller may find something new (X-Amz-Target: "<service>.<operation>"),
# by the pollers they concern: a table write wakes the stream pollers, not the queue pollers.
TABLE_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)
QUEUE_WRITES = frozenset(
    {
        "SendMessage",
        "SendMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    }
)
# Forwarding waits as long as a synchronous Lambda invoke may run (the template's longest).
FORWARD_TIMEOUT_SECONDS = 900.0
START_TIMEOUT_SECONDS = 60.0


class MotoProcessError(Exception):
    """The moto process could not start or stopped answering; the message says why."""


@dataclass(frozen=True)
class ChildSettings:
    host: str
    port: int
    parent_address: tuple[str, int]
    control_url: str  # the parent's server for the stack's own paths
    forwarded_prefixes: tuple[str, ...]


class MotoProcess:
    """Starts the child, receives its reports, answers "how many S3 writes are in flight?"."""

    def __init__(
        self,
        *,
        on_write: Callable[[ObservedWrite], None],
        on_table_write: Callable[[], None],
        on_queue_write: Callable[[], None],
    ) -> None:
        self._on_write = on_write
        self._on_table_write = on_table_write
        self._on_queue_write = on_queue_write
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._send_lock = threading.Lock()
        self._synced = threading.Condition()
        self._sync_answers: dict[int, int] = {}
        self._next_sync = 0
        self._reader: threading.Thread | None = None
        self._closed = False
        self.port = 0

    def start(self, settings: ChildSettings) -> None:
        authkey = secrets.token_bytes(32)
        with Listener(("127.0.0.1", 0), authkey=authkey) as listener:
            settings = ChildSettings(
                settings.host,
                settings.port,
                listener.address,
                settings.control_url,
                settings.forwarded_prefixes,
            )
            self._process = subprocess.Popen(
                [sys.executable, "-m", "blogpub_local.moto_process"],
                stdin=subprocess.PIPE,
                env=os.environ | {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
            assert self._process.stdin is not None
            self._process.stdin.write(
                json.dumps({"authkey": authkey.hex(), **settings.__dict__}).encode() + b"\n"
            )
            self._process.stdin.close()
            listener._listener._socket.settimeout(START_TIMEOUT_SECONDS)  # type: ignore[attr-defined]
            try:
                self._connection = listener.accept()
            except OSError as error:
                self.stop()
                raise MotoProcessError(f"the moto process did not start: {error}") from error
        kind, value = self._connection.recv()
        if kind == "error":
            self.stop()
            raise MotoProcessError(str(value))
        self.port = int(value)
        self._reader = threading.Thread(target=self._read, name="moto-reports", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs, else None."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def _send(self, message: tuple[Any, ...]) -> None:
        assert self._connection is not None
        with self._send_lock:
            self._connection.send(message)

    def watch_buckets(self, buckets: frozenset[str]) -> None:
        self._send(("buckets", sorted(buckets)))

    def writes_in_flight(self) -> int:
        """S3 writes the child is answering, once every write it reported before is received."""
        with self._synced:
            self._next_sync += 1
            token = self._next_sync
        self._send(("sync", token))
        with self._synced:
            if not self._synced.wait_for(
                lambda: token in self._sync_answers or self._closed, START_TIMEOUT_SECONDS
            ):
                raise MotoProcessError("the moto process did not answer the idle check")
            if self._closed:
                return 0
            return self._sync_answers.pop(token)

    def _read(self) -> None:
        assert self._connection is not None
        while True:
            try:
                kind, value = self._connection.recv()
            except (EOFError, OSError):
                break
            if kind == "write":
                self._on_write(value)
            elif kind == "table-write":
                self._on_table_write()
            elif kind == "queue-write":
                self._on_queue_write()
            elif kind == "synced":
                token, in_flight = value
                with self._synced:
                    self._sync_answers[token] = in_flight
                    self._synced.notify_all()
        with self._synced:
            self._closed = True
            self._synced.notify_all()

    def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._send(("stop", None))
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._connection is not None:
            self._connection.close()
        if self._reader is not None:
            self._reader.join(timeout=5)


def forwarding_app(control_url: str) -> Callable[..., Iterator[bytes]]:
    """A WSGI app that relays a request to the parent's server and returns its answer."""
    target = urlsplit(control_url)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            name[5:].replace("_", "-").title(): value
            for name, value in environ.items()
            if name.startswith("HTTP_") and name != "HTTP_HOST"
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        connection = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port, timeout=FORWARD_TIMEOUT_SECONDS
        )
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            kept = [
                (name, value)
                for name, value in answer.getheaders()
                if name.lower() not in {"connection", "transfer-encoding", "server", "date"}
            ]
            start_response(f"{answer.status} {answer.reason}", kept)
            return iter([content])
        finally:
            connection.close()

    return app


# Responses that carry no body, so no Content-Length is added to them.
BODILESS_STATUSES = frozenset({204, 304})


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, answering over HTTP/1.1 keep-alive connections.

    werkzeug's dev server closes every connection after one answer, so each SDK call paid a
    TCP connect, a thread start and botocore's reconnect. Here each request's body is read
    whole first (so the next request on the connection starts where it should), the answer
    gets a Content-Length and leaves in one write (no Nagle delay between head and body).
    The environ is werkzeug's and moto's own (``make_environ``), so moto sees the same request.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Not logged: stderr is for function logs."""

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        if environ.get("wsgi.input_terminated"):  # chunked: read to the last chunk
            body = environ["wsgi.input"].read()
        else:
            body = self.rfile.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer["status"], answer["headers"] = status, list(headers)
            return answer.setdefault("written", []).append  # type: ignore[no-any-return]

        try:
            chunks = self.server.app(environ, start_response)
            try:
                content = b"".join([*answer.get("written", []), *chunks])
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except Exception:  # an answer as werkzeug gives: 500, the traceback on stderr
            traceback.print_exc()
            answer = {"status": "500 Internal Server Error", "headers": []}
            content = b"Internal Server Error\n"
            self.close_connection = True
        self._answer(str(answer["status"]), answer["headers"], content)

    def _answer(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        code = int(status.split(maxsplit=1)[0])
        names = {name.lower() for name, _ in headers}
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() != "connection"]
        if "content-length" not in names and code not in BODILESS_STATUSES and code >= 200:
            lines.append(f"Content-Length: {len(content)}")
        if "server" not in names:
            lines.append(f"Server: {self.version_string()}")
        if "date" not in names:
            lines.append(f"Date: {self.date_time_string()}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + content)


def one_at_a_time(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """``app`` answering one request at a time, each answer read whole under the lock.

    moto's backends are not thread-safe (a transaction deep-copies a table that another
    request is changing): one request at a time, as a real service appears."""
    lock = threading.Lock()

    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return answer


def keep_alive_server(host: str, port: int, app: Callable[..., Any]) -> BaseWSGIServer:
    """``app`` served on a thread per connection, over keep-alive connections (not started)."""
    from werkzeug.serving import make_server

    return make_server(host, port, app, threaded=True, request_handler=KeepAliveRequestHandler)


@contextlib.contextmanager
def serving_moto(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """moto served from this process as the stack's moto process serves it (keep-alive
    connections, one request at a time, the remembered dispatch, the same header parsing),
    without the stack's write observer and forwarding: for callers whose functions run in
    other processes (the bench's cold starts). Yields the endpoint URL; moto_fidelity's
    patches are the caller's to install."""
    from blogpub_local import http_headers
    from moto.moto_server.werkzeug_app import create_backend_app

    http_headers.install()
    server = keep_alive_server(host, port, one_at_a_time(RememberingDispatcher(create_backend_app)))
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


HOSTS_REMEMBERED = 256  # distinct Host headers whose backend is remembered


class RememberingDispatcher(DomainDispatcherApplication):
    """moto's dispatcher, remembering which backend a Host header names: moto answers that by
    listing its package directory on every request (a seventh of the child's CPU)."""

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host in self._backends:
            return self._backends[host]
        backend = super().get_backend_for_host(host)
        if len(self._backends) < HOSTS_REMEMBERED:
            self._backends[host] = backend
        return backend


def with_object_facts(write: ObservedWrite) -> ObservedWrite:
    """Size and ETag of a created version, read from moto while the write's request holds
    the lock (the parent then needs no HeadObject); unchanged where moto has no such version."""
    if not write.is_creation:
        return write
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    try:
        stored = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(
            write.bucket, write.key, write.version_id
        )
    except MissingBucket:
        return write
    if stored is None:
        return write
    return replace(write, size=stored.size, etag=stored.etag.strip('"'))


def _serve(settings: ChildSettings, connection: Connection) -> None:
    from blogpub_local import http_headers, moto_fidelity
    from blogpub_local.s3_events import S3WriteObserver
    from blogpub_local.stack import closed_to_other_origins
    from moto.moto_server.werkzeug_app import create_backend_app

    send_lock = threading.Lock()

    def report(message: tuple[Any, ...]) -> None:
        with send_lock:
            connection.send(message)

    moto_fidelity.install()
    http_headers.install()  # each request's header block, read by http.server
    try:
        observer = S3WriteObserver(
            RememberingDispatcher(create_backend_app),
            (),
            lambda w: report(("write", with_object_facts(w))),
        )
        forward = forwarding_app(settings.control_url)
        moto = one_at_a_time(observer)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
            if str(environ.get("PATH_INFO", "")).startswith(settings.forwarded_prefixes):
                return forward(environ, start_response)
            answer = moto(environ, start_response)
            operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
            # After the write, so the woken poll sees it.
            if operation in TABLE_WRITES:
                report(("table-write", None))
            elif operation in QUEUE_WRITES:
                report(("queue-write", None))
            return iter(answer)

        server = keep_alive_server(settings.host, settings.port, closed_to_other_origins(app))
    except (OSError, SystemExit) as error:  # werkzeug exits when the port is taken
        reason = "the port is in use" if isinstance(error, SystemExit) else str(error)
        report(
            (
                "error",
                f"cannot listen on {settings.host}:{settings.port}: {reason}"
                " (choose another --port, or 0 for any free port)",
            )
        )
        return
    threading.Thread(target=server.serve_forever, name="moto", daemon=True).start()
    report(("ready", server.server_address[1]))
    while True:
        try:
            kind, value = connection.recv()
        except (EOFError, OSError):
            break  # the parent is gone
        if kind == "buckets":
            observer.buckets = frozenset(value)
        elif kind == "sync":
            report(("synced", (value, observer.writes_in_flight)))
        elif kind == "stop":
            break
    server.shutdown()
    server.server_close()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    raw = json.loads(sys.stdin.readline())
    authkey = bytes.fromhex(raw.pop("authkey"))
    raw["parent_address"] = tuple(raw["parent_address"])
    raw["forwarded_prefixes"] = tuple(raw["forwarded_prefixes"])
    settings = ChildSettings(**raw)
    connection = Client(settings.parent_address, authkey=authkey)
    try:
        _serve(settings, connection)
    finally:
        connection.close()


if __name__ == "__main__":
    main()
