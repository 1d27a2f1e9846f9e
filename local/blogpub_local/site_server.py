"""Serves the site bucket over HTTP the way the CloudFront distribution does, cache included.

The edge cache follows what template.yaml gives CloudFront: the objects' ``Cache-Control``
(``s-maxage``, ``stale-while-revalidate``) bounded by the cache policy's TTLs, error caching
for 404s (``ErrorCachingMinTTL``), and the ``CreateInvalidation`` calls the pipeline makes on
the local distribution. Each answer says what the cache did in ``X-Cache`` (``Hit``,
``Miss``, ``Stale``, ``RefreshHit`` from blogpub-local), as CloudFront's header does, and in
the ``blogpub_local.site`` log; responses carry the response headers policy's headers.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

NOT_FOUND_KEY = "404.html"
CACHE_NAME = "blogpub-local"
CACHE_POLICY_ID = "SiteCachePolicy"
HEADERS_POLICY_ID = "SiteResponseHeadersPolicy"
DISTRIBUTION_ID = "Distribution"

CacheOutcome = Literal["Hit", "Miss", "Stale", "RefreshHit"]
logger = logging.getLogger("blogpub_local.site")


def object_key_candidates(request_path: str) -> list[str]:
    """Bucket keys a viewer path may name, most specific first.

    "/a/b/" -> ["a/b/index.html"]; "/a/b" -> ["a/b", "a/b/index.html"]; paths arrive
    percent-encoded (CJK) and are decoded as UTF-8.
    """
    key = cache_key(request_path).lstrip("/")
    if key == "" or key.endswith("/"):
        return [f"{key}index.html"]
    return [key, f"{key}/index.html"]


# Hexo's paginated listings: "page/N/" after the home, an archive (site, year or month), a
# category or a tag; the same pattern as the template's DirectoryIndexFunction.
_HEXO_PAGINATION = re.compile(
    r"^((?:archives/(?:[0-9]{4}/(?:[0-9]{2}/)?)?|(?:categories|tags)/(?:.*/)?)?)"
    r"page/[0-9]+(?:/(?:index\.html)?)?$"
)


@dataclass(frozen=True)
class ViewerRequest:
    """What the viewer-request function does with a request: answer it (``status`` with a
    ``location`` for redirects) or forward it to the cache and origin at ``path``."""

    status: int | None = None  # None: forwarded
    location: str = ""
    path: str = ""  # the viewer path without the site root, still percent-encoded


def viewer_request(request_path: str, root: str = "/") -> ViewerRequest:
    """The template's DirectoryIndexFunction in Python (tests/edge_requests.json checks both).

    The site is served below ``root`` from objects kept without it; "/" and the root without
    its slash are sent to the root (302); other paths outside it are 404s; Hexo's
    ``page/N/`` listing URLs answer 301 with the listing's own page (the URL without
    ``page/N/``); anything else is forwarded without the root.
    """
    uri = urlsplit(request_path).path or "/"
    if not uri.startswith(root):
        if uri == "/" or uri + "/" == root:
            return ViewerRequest(302, root)
        return ViewerRequest(404)
    path = uri[len(root) :]
    paged = _HEXO_PAGINATION.match(path)
    if paged:
        return ViewerRequest(301, root + paged.group(1))
    return ViewerRequest(path="/" + path)


def cache_key(request_path: str) -> str:
    """The decoded path alone: the cache policy keys on no query string, header or cookie."""
    return unquote(urlsplit(request_path).path, encoding="utf-8", errors="replace") or "/"


# -- what template.yaml tells CloudFront --------------------------------------------------
@dataclass(frozen=True)
class EdgeBehaviour:
    """The distribution's caching and headers, as read from the template's resources."""

    min_ttl: int = 0
    default_ttl: int = 86400
    max_ttl: int = 31536000
    error_ttl: int = 10
    headers: Mapping[str, str] = field(default_factory=dict)
    site_root: str = "/"  # the SiteRoot parameter the viewer-request function is given
    # (path pattern, headers) of the distribution's other cache behaviours, first match wins.
    path_headers: tuple[tuple[str, Mapping[str, str]], ...] = ()

    def headers_for(self, request_path: str) -> Mapping[str, str]:
        """The response headers policy of the cache behaviour a viewer path falls under."""
        path = cache_key(request_path)
        for pattern, headers in self.path_headers:
            if fnmatch.fnmatchcase(
                path, pattern if pattern.startswith(("/", "*")) else "/" + pattern
            ):
                return headers
        return self.headers

    @classmethod
    def from_resources(cls, resources: Mapping[str, Any], site_root: str = "/") -> EdgeBehaviour:
        """From resolved resource properties by logical id (SiteCachePolicy, ...)."""
        policy = (resources.get(CACHE_POLICY_ID) or {}).get("CachePolicyConfig") or {}
        distribution = (resources.get(DISTRIBUTION_ID) or {}).get("DistributionConfig") or {}
        error_ttls = [
            int(response.get("ErrorCachingMinTTL", 10))
            for response in distribution.get("CustomErrorResponses") or []
            if int(response.get("ErrorCode", 0)) in (403, 404)
        ]

        def headers_of(policy_id: Any) -> dict[str, str]:
            logical_id = policy_id.get("Ref") if isinstance(policy_id, dict) else policy_id
            config = (resources.get(str(logical_id)) or {}).get("ResponseHeadersPolicyConfig")
            return security_headers((config or {}).get("SecurityHeadersConfig") or {})

        path_headers = tuple(
            (str(behaviour["PathPattern"]), headers_of(behaviour.get("ResponseHeadersPolicyId")))
            for behaviour in distribution.get("CacheBehaviors") or []
        )
        return cls(
            min_ttl=int(policy.get("MinTTL", 0)),
            default_ttl=int(policy.get("DefaultTTL", 86400)),
            max_ttl=int(policy.get("MaxTTL", 31536000)),
            error_ttl=min(error_ttls) if error_ttls else 10,
            headers=headers_of(HEADERS_POLICY_ID),
            site_root=site_root,
            path_headers=path_headers,
        )


def security_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The HTTP headers a ResponseHeadersPolicy's SecurityHeadersConfig adds."""
    headers: dict[str, str] = {}
    if "ContentSecurityPolicy" in config:
        headers["Content-Security-Policy"] = str(
            config["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        )
    if "ContentTypeOptions" in config:
        headers["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in config:
        headers["X-Frame-Options"] = str(config["FrameOptions"]["FrameOption"])
    if "ReferrerPolicy" in config:
        headers["Referrer-Policy"] = str(config["ReferrerPolicy"]["ReferrerPolicy"])
    if "StrictTransportSecurity" in config:
        hsts = config["StrictTransportSecurity"]
        value = f"max-age={int(hsts['AccessControlMaxAgeSec'])}"
        if _true(hsts.get("IncludeSubdomains")):
            value += "; includeSubDomains"
        if _true(hsts.get("Preload")):
            value += "; preload"
        headers["Strict-Transport-Security"] = value
    if "XSSProtection" in config:
        xss = config["XSSProtection"]
        value = "1" if _true(xss.get("Protection")) else "0"
        if _true(xss.get("Protection")) and _true(xss.get("ModeBlock")):
            value += "; mode=block"
        headers["X-XSS-Protection"] = value
    return headers


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


_DIRECTIVE = re.compile(r"([a-z-]+)\s*(?:=\s*\"?(\d+)\"?)?")


def cache_lifetimes(cache_control: str | None, behaviour: EdgeBehaviour) -> tuple[float, float]:
    """(TTL, stale-while-revalidate) in seconds, as CloudFront reads an origin's header:
    s-maxage before max-age, the policy's DefaultTTL without either, clamped to its
    MinTTL..MaxTTL; no-store/private are not cached when MinTTL is 0."""
    directives: dict[str, int | None] = {}
    for name, value in _DIRECTIVE.findall((cache_control or "").lower()):
        directives[name] = int(value) if value else None
    if behaviour.min_ttl == 0 and ("no-store" in directives or "private" in directives):
        return 0.0, 0.0
    ttl = directives.get("s-maxage")
    if ttl is None:
        ttl = directives.get("max-age")
    if ttl is None:
        ttl = 0 if "no-cache" in directives else behaviour.default_ttl
    clamped = max(behaviour.min_ttl, min(behaviour.max_ttl, ttl))
    return float(clamped), float(directives.get("stale-while-revalidate") or 0)


# -- the edge cache -----------------------------------------------------------------------
@dataclass
class OriginAnswer:
    status: int
    body: bytes
    content_type: str
    etag: str = ""
    cache_control: str = ""


@dataclass
class CachedObject:
    answer: OriginAnswer
    stored_at: float
    ttl: float
    stale_for: float
    refreshing: bool = False


@dataclass
class EdgeCache:
    """One edge location's cache in front of ``origin`` (a viewer path -> OriginAnswer)."""

    origin: Callable[[str], OriginAnswer]
    behaviour: EdgeBehaviour = field(default_factory=EdgeBehaviour)
    clock: Callable[[], float] = time.monotonic
    entries: dict[str, CachedObject] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Invalidations applied so far: an origin answer fetched while one was applied is served
    # to its reader but not cached, or a copy the origin had already replaced when the
    # invalidation came would be stored after it and served until its TTL ran out.
    invalidation_count: int = 0

    def get(self, request_path: str) -> tuple[OriginAnswer, CacheOutcome]:
        key = cache_key(request_path)
        now = self.clock()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                age = now - entry.stored_at
                if age < entry.ttl:
                    return entry.answer, "Hit"
                if age < entry.ttl + entry.stale_for:
                    start_refresh = not entry.refreshing
                    entry.refreshing = True
                    if start_refresh:
                        threading.Thread(
                            target=self._refresh,
                            args=(key, request_path, self.invalidation_count),
                            daemon=True,
                        ).start()
                    return entry.answer, "Stale"
            invalidations_before = self.invalidation_count
        answer = self.origin(request_path)
        outcome: CacheOutcome = "Miss"
        if entry is not None and answer.etag and answer.etag == entry.answer.etag:
            outcome = "RefreshHit"  # the origin's 304: the cached copy is fresh again
        self._store(key, answer, self.clock(), invalidations_before)
        return answer, outcome

    def invalidate(self, paths: list[str]) -> int:
        """Drop every cached object an invalidation's paths name (a trailing * is a prefix)."""
        dropped = 0
        with self.lock:
            self.invalidation_count += 1
            for key in list(self.entries):
                if any(_matches(key, unquote(path, encoding="utf-8")) for path in paths):
                    del self.entries[key]
                    dropped += 1
        return dropped

    def _refresh(self, key: str, request_path: str, invalidations_before: int) -> None:
        """stale-while-revalidate: refetch in the background while readers get the copy."""
        try:
            answer = self.origin(request_path)
        except Exception:
            logger.exception("background revalidation of %s failed", key)
            with self.lock:
                if key in self.entries:
                    self.entries[key].refreshing = False
            return
        self._store(key, answer, self.clock(), invalidations_before)
        logger.info("%s %s (background)", key, "Revalidated")

    def _store(self, key: str, answer: OriginAnswer, now: float, invalidations_before: int) -> None:
        if answer.status == 200:
            ttl, stale_for = cache_lifetimes(answer.cache_control, self.behaviour)
        else:
            ttl, stale_for = float(self.behaviour.error_ttl), 0.0
        with self.lock:
            if self.invalidation_count != invalidations_before:
                self.entries.pop(key, None)  # fetched across an invalidation: not kept
                return
            if ttl > 0 or stale_for > 0:
                self.entries[key] = CachedObject(answer, now, ttl, stale_for)
            else:
                # TTL 0: kept only to revalidate against (a 304 next time), never served as is.
                self.entries[key] = CachedObject(answer, now, 0.0, 0.0)


def _matches(key: str, path: str) -> bool:
    """CloudFront's rule: the path names the viewer URI or its rewritten index.html."""
    if path.endswith("*"):
        return key.startswith(path[:-1])
    return key == path or (key.endswith("/") and key + "index.html" == path)


# -- the HTTP front ------------------------------------------------------------------------
class SiteServer:
    """A threaded HTTP server with an edge cache in front of one bucket."""

    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        behaviour: EdgeBehaviour | None = None,
        cloudfront: Any = None,
        distribution_id: str = "",
    ) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self.behaviour = behaviour or EdgeBehaviour()
        self.cache = EdgeCache(self.fetch_origin, self.behaviour)
        self.cloudfront = cloudfront
        self.distribution_id = distribution_id
        # (monotonic time applied, invalidation id, paths): what readers can no longer get.
        self.invalidations: list[tuple[float, str, list[str]]] = []
        self._seen_invalidations: set[str] = set()
        self._invalidation_lock = threading.Lock()
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

    def fetch_origin(self, request_path: str) -> OriginAnswer:
        """The origin's answer for a viewer path, body read."""
        status, found = self.fetch(request_path)
        if found is None:
            return OriginAnswer(status, b"Not Found", "text/plain; charset=utf-8")
        return OriginAnswer(
            status,
            found["Body"].read(),
            found.get("ContentType") or "application/octet-stream",
            etag=found.get("ETag", ""),
            cache_control=found.get("CacheControl", ""),
        )

    def apply_invalidations(self) -> None:
        """Empty the cache of what the pipeline's CreateInvalidation calls named since the
        last request (the local distribution completes them at once)."""
        if self.cloudfront is None or not self.distribution_id:
            return
        with self._invalidation_lock:
            listed = self.cloudfront.list_invalidations(DistributionId=self.distribution_id)
            items = (listed.get("InvalidationList") or {}).get("Items") or []
            for summary in items:
                invalidation_id = str(summary["Id"])
                if invalidation_id in self._seen_invalidations:
                    continue
                detail = self.cloudfront.get_invalidation(
                    DistributionId=self.distribution_id, Id=invalidation_id
                )["Invalidation"]
                paths = list(detail["InvalidationBatch"]["Paths"].get("Items") or [])
                dropped = self.cache.invalidate(paths)
                self._seen_invalidations.add(invalidation_id)
                self.invalidations.append((time.monotonic(), invalidation_id, paths))
                logger.info(
                    "invalidation %s: %d paths, %d cached objects",
                    invalidation_id,
                    len(paths),
                    dropped,
                )

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
                decided = viewer_request(self.path, site.behaviour.site_root)
                if decided.status is not None:
                    self._answer_at_the_edge(decided, with_body=with_body)
                    return
                site.apply_invalidations()
                # As on CloudFront, the cache keys on the URI the function forwards.
                answer, outcome = site.cache.get(decided.path)
                logger.info("%s %s %s", self.path, answer.status, outcome)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                extra = {"ETag": answer.etag, "Cache-Control": answer.cache_control}
                extra["X-Cache"] = f"{outcome} from {CACHE_NAME}"
                extra.update(site.behaviour.headers_for(self.path))
                for name, value in extra.items():
                    if value:
                        self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(answer.body)

            def _answer_at_the_edge(self, decided: ViewerRequest, *, with_body: bool) -> None:
                """The function's own response: no cache and no origin, policy headers only."""
                body = b"" if decided.location else b"Not Found"
                logger.info("%s %s function", self.path, decided.status)
                self.send_response(decided.status or 404)
                if decided.location:
                    self.send_header("Location", decided.location)
                else:
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in site.behaviour.headers_for(self.path).items():
                    self.send_header(name, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the stack's stderr is for function logs; the cache logs above."""

        return SiteRequestHandler
