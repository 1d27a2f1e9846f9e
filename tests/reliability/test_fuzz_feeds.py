"""Issue 16: titles, authors, categories and bodies with any code point (controls, surrogates
by YAML escape, U+FFFE, bidi and zero-width characters) keep every feed and sitemap
parseable by ElementTree and feedparser."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET

import feedparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import Pipeline

ANY_CODE_POINT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=24)
# A file is UTF-8, so a body holds no surrogate; front-matter reaches them through escapes.
FILE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)


@st.composite
def hostile_posts(draw: st.DrawFn) -> bytes:
    title, author, category = draw(ANY_CODE_POINT), draw(ANY_CODE_POINT), draw(ANY_CODE_POINT)
    tag = draw(ANY_CODE_POINT)
    # json.dumps escapes every non-ASCII and control character: valid YAML double quotes.
    front_matter = (
        f"title: {json.dumps(title)}\nauthor: {json.dumps(author)}\n"
        f"categories: [{json.dumps(category)}]\ntags: [{json.dumps(tag)}]\n"
        "date: 2024-04-01 12:00:00\n"
    )
    body = draw(FILE_TEXT).replace("\x00", "")
    return f"---\n{front_matter}---\n{body}\n".encode("utf-8", "surrogatepass")


def test_feeds_and_sitemaps_stay_parseable_for_any_code_point(pipeline: Pipeline) -> None:
    numbers = itertools.count()
    published: list[str] = []
    # Both feed types, so the RSS 2.0 feeds face the same input as the Atom ones.
    pipeline.put("_config.yml", "feed:\n  type: [atom, rss2]\n", deliver=False)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(hostile_posts())
    def check(raw: bytes) -> None:
        key = f"_posts/fuzz/{next(numbers)}.md"
        pipeline.put(key, raw)
        (outcome,) = pipeline.render_results[-1]["results"]
        assert outcome["outcome"] in ("published", "rejected"), outcome
        if outcome["outcome"] == "published":
            published.append(key)
        pipeline.build()
        for name, body in pipeline.site_objects().items():
            if not name.endswith(".xml"):
                continue
            ET.fromstring(body)
            if name.endswith(("atom.xml", "rss2.xml")):
                parsed = feedparser.parse(body)
                assert not parsed.bozo, (name, parsed.get("bozo_exception"))
                feeds.add(name)

    feeds: set[str] = set()
    check()
    assert published  # the strategy reaches the feeds
    assert {"atom.xml", "rss2.xml"} <= feeds
