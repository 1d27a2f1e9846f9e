"""Issue 15's rules: cache classes, Cache-Control, invalidation coalescing, the template's
cache and response headers policies, and the local edge cache that follows them."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from blogpub.cdn import coalesce, invalidation_paths
from blogpub.config import Deployment
from blogpub.pages import CATALOGUE, IndexPage, cache_class
from blogpub.site import LONG_CACHE_CONTROL, cache_control
from blogpub_local.cfn_yaml import load_template
from blogpub_local.site_server import EdgeBehaviour, EdgeCache, OriginAnswer, cache_lifetimes
from blogpub_local.stack import LocalStack, StackOptions

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = load_template(TEMPLATE)
    return loaded


def test_every_page_that_lists_posts_is_a_listing_and_robots_is_long() -> None:
    listing = {kind for kind, entry in CATALOGUE.items() if entry.cache == "listing"}
    assert listing == set(CATALOGUE) - {"robots"}
    assert cache_class(IndexPage("not_found")) == "listing"
    assert cache_class(IndexPage("robots")) == "long"


def test_cache_control_by_class() -> None:
    assert cache_control("listing", 60) == (
        "public, max-age=0, s-maxage=60, stale-while-revalidate=60"
    )
    assert cache_control("listing", 0) == "public, max-age=0, s-maxage=0, must-revalidate"
    assert cache_control("long", 60) == LONG_CACHE_CONTROL
    assert "s-maxage=31536000" in LONG_CACHE_CONTROL


def test_deployment_reads_the_ttl_and_threshold_and_keeps_zero() -> None:
    env = {"INDEX_PAGE_TTL_SECONDS": "0", "INVALIDATION_WILDCARD_THRESHOLD": "7"}
    deployment = Deployment.from_env(env)
    assert (deployment.index_page_ttl_seconds, deployment.invalidation_wildcard_threshold) == (0, 7)
    assert Deployment.from_env({}).index_page_ttl_seconds == 60


def test_an_edit_is_at_most_two_paths_and_coalescing_keeps_small_batches_exact() -> None:
    paths = invalidation_paths(["/2024/03/05/a/"])
    assert paths == ["/2024/03/05/a/", "/2024/03/05/a/index.html"]
    assert coalesce(paths, 15) == paths


def test_a_large_batch_becomes_wildcard_prefixes_within_the_threshold() -> None:
    urls = [f"/2024/{month:02d}/{day:02d}/post-{day}/" for month in (1, 2) for day in range(1, 29)]
    paths = invalidation_paths(urls)
    assert len(paths) == 112
    coalesced = coalesce(paths, 15)
    assert len(coalesced) <= 15
    assert all(path.endswith("*") for path in coalesced)
    assert all(any(p.startswith(w[:-1]) for w in coalesced) for p in paths)  # nothing missed
    assert coalesce(paths, 1) == ["/2024/*"]
    assert coalesce([*paths, "/robots.txt"], 1) == ["/*"]


def test_the_cache_policy_honours_the_origin_and_keys_on_the_path(template: Any) -> None:
    resources = template["Resources"]
    config = resources["SiteCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert config["MinTTL"] == 0
    assert config["MaxTTL"] >= 31536000  # the long lifetime of post pages and assets
    keyed = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert keyed["EnableAcceptEncodingGzip"] is True
    assert keyed["EnableAcceptEncodingBrotli"] is True
    assert keyed["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert keyed["CookiesConfig"] == {"CookieBehavior": "none"}
    assert keyed["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    behavior = resources["Distribution"]["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == {"Ref": "SiteCachePolicy"}
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SiteResponseHeadersPolicy"}
    errors = resources["Distribution"]["Properties"]["DistributionConfig"]["CustomErrorResponses"]
    assert {e["ErrorCode"]: e["ErrorCachingMinTTL"] for e in errors} == {403: 10, 404: 10}
    parameters = template["Parameters"]
    assert parameters["IndexPageTtlSeconds"]["Default"] == 60
    assert parameters["IndexPageTtlSeconds"]["MinValue"] == 0
    assert "InvalidationWildcardThreshold" in parameters


def _csp(stack_parameters: dict[str, str]) -> dict[str, str]:
    stack = LocalStack(StackOptions(TEMPLATE, parameters=stack_parameters))
    return dict(stack.edge_behaviour().headers)


def test_the_headers_policy_has_the_security_headers_and_a_script_free_csp() -> None:
    headers = _csp({})
    directives = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )
    assert directives["script-src"] == "'none'"
    assert directives["style-src"] == "'self'"
    assert set(directives["img-src"].split()) >= {"https:", "data:"}
    for name in ("frame-ancestors", "base-uri", "form-action", "default-src"):
        assert directives[name] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers["X-XSS-Protection"] == "1; mode=block"


def test_feeds_and_sitemaps_get_the_same_headers_with_inline_style_for_xml_viewers() -> None:
    stack = LocalStack(StackOptions(TEMPLATE))
    behaviour = stack.edge_behaviour()
    page, feed = behaviour.headers_for("/"), behaviour.headers_for("/sitemaps/2024-05.xml")
    assert feed["Content-Security-Policy"].startswith(
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert "script-src" not in feed["Content-Security-Policy"]  # default-src 'none' covers it
    assert {k: v for k, v in feed.items() if k != "Content-Security-Policy"} == {
        k: v for k, v in page.items() if k != "Content-Security-Policy"
    }
    assert behaviour.headers_for("/atom.xml") == feed
    assert behaviour.headers_for("/2024/05/01/a/") == page


def test_a_comments_script_widens_the_policy_only_when_configured() -> None:
    csp = _csp({"CommentsScriptOrigin": "https://giscus.app"})["Content-Security-Policy"]
    assert "script-src https://giscus.app;" in csp


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Origin:
    def __init__(self) -> None:
        self.body = b"v1"
        self.status = 200
        self.cache_control = "public, max-age=0, s-maxage=2, stale-while-revalidate=2"
        self.fetches = 0

    def __call__(self, path: str) -> OriginAnswer:
        self.fetches += 1
        return OriginAnswer(
            self.status, self.body, "text/html", f'"{self.body!r}"', self.cache_control
        )


def test_the_edge_cache_hits_then_serves_stale_while_it_revalidates() -> None:
    origin, clock = Origin(), Clock()
    cache = EdgeCache(origin, EdgeBehaviour(), clock)
    assert cache.get("/")[1] == "Miss"
    origin.body = b"v2"
    clock.now += 1
    assert cache.get("/") == (cache.entries["/"].answer, "Hit")
    assert cache.get("/")[0].body == b"v1"
    clock.now += 1.5  # past s-maxage, inside stale-while-revalidate
    answer, outcome = cache.get("/")
    assert (answer.body, outcome) == (b"v1", "Stale")
    for _ in range(200):  # the background refresh
        if cache.entries["/"].answer.body == b"v2":
            break
        time.sleep(0.01)  # let the refresh thread run
    assert cache.get("/")[0].body == b"v2"
    clock.now += 10  # past both windows: a synchronous refetch, same ETag -> RefreshHit
    assert cache.get("/")[1] == "RefreshHit"


def test_the_edge_cache_caches_404s_for_the_error_ttl_and_obeys_invalidations() -> None:
    origin, clock = Origin(), Clock()
    origin.status, origin.cache_control = 404, ""
    cache = EdgeCache(origin, EdgeBehaviour(error_ttl=10), clock)
    assert cache.get("/a/b/")[1] == "Miss"
    origin.status = 200
    clock.now += 9
    assert cache.get("/a/b/")[0].status == 404
    clock.now += 2
    assert cache.get("/a/b/")[0].status == 200
    origin.cache_control = LONG_CACHE_CONTROL
    assert cache.invalidate(["/a/b/index.html"]) == 1  # the rewritten URI names it too
    cache.get("/a/b/")
    origin.body = b"edited"
    assert cache.get("/a/b/")[0].body == b"v1"
    assert cache.invalidate(["/a/*"]) == 1
    assert cache.get("/a/b/")[0].body == b"edited"


def test_an_answer_fetched_across_an_invalidation_is_served_but_not_cached() -> None:
    # The origin answers the old page, then the post is rewritten and invalidated before
    # the edge stores that answer: kept, it would be served after the invalidation.
    origin, clock = Origin(), Clock()
    origin.cache_control = LONG_CACHE_CONTROL
    cache = EdgeCache(origin, EdgeBehaviour(), clock)

    def fetched_then_invalidated(path: str) -> OriginAnswer:
        answer = Origin.__call__(origin, path)
        origin.body = b"v2"
        cache.invalidate([path])
        return answer

    cache.origin = fetched_then_invalidated
    assert cache.get("/p/")[0].body == b"v1"  # the reader that asked before gets its answer
    cache.origin = origin
    assert "/p/" not in cache.entries
    assert cache.get("/p/")[0].body == b"v2"
    assert cache.get("/p/")[1] == "Hit"  # fetched with no invalidation in between: kept


def test_cache_lifetimes_follow_cloudfront_rules() -> None:
    policy = EdgeBehaviour(min_ttl=0, default_ttl=86400, max_ttl=31536000)
    assert cache_lifetimes("max-age=5, s-maxage=60, stale-while-revalidate=30", policy) == (
        60.0,
        30.0,
    )
    assert cache_lifetimes("max-age=5", policy) == (5.0, 0.0)
    assert cache_lifetimes(None, policy) == (86400.0, 0.0)
    assert cache_lifetimes("no-store", policy) == (0.0, 0.0)
    assert cache_lifetimes("s-maxage=99999999", policy) == (31536000.0, 0.0)


def _directives(csp: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


def _player_origins() -> set[str]:
    """The origins the youtube and vimeo tags frame when the site allows privacy embeds."""
    from urllib.parse import urlsplit

    from blogpub.tags import TagContext, expand_tags

    context = TagContext(render_markdown=lambda text: text, privacy_embeds=True)
    html = expand_tags("{% youtube abc %}\n\n{% vimeo 123 %}\n", context).text
    return {
        f"{(parts := urlsplit(src)).scheme}://{parts.netloc}"
        for src in re.findall(r'<iframe src="([^"]+)"', html)
    }


@pytest.mark.parametrize("privacy_embeds", ["true", "false"])
def test_privacy_embeds_frame_exactly_the_two_players_and_nothing_otherwise(
    privacy_embeds: str,
) -> None:
    csp = _csp({"PrivacyEmbeds": privacy_embeds})["Content-Security-Policy"]
    directives = _directives(csp)

    if privacy_embeds == "true":
        assert set(directives["frame-src"].split()) == _player_origins()
        assert _player_origins() == {
            "https://www.youtube-nocookie.com",
            "https://player.vimeo.com",
        }
    else:
        assert "frame-src" not in directives  # default-src 'none' forbids every frame
    assert directives["default-src"] == directives["frame-ancestors"] == "'none'"
    assert _directives(_csp({})["Content-Security-Policy"]).keys() == (
        directives.keys() - {"frame-src"}
    )
