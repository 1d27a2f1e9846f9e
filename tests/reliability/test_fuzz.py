"""Fuzzing RenderPostFunction: any file either publishes or is rejected with a recorded PostError.

Anything else (an exception out of the handler) would make Lambda retry a deterministic
failure and end in the dead-letter queue, which is what this test rules out.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import Any

import yaml
from blogpub.table import PostTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import TABLE, Pipeline

FRONT_MATTER_KEYS = [
    "title", "date", "updated", "categories", "category", "tags", "tag", "permalink",
    "published", "draft", "comments", "lang", "excerpt", "headimg", "author", "cover",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(min_value=date(1, 1, 1)),
    st.datetimes(min_value=datetime(1, 1, 1)),
    st.sampled_from(["2022-02-30", "Sat, 05 Feb 2022 11:13:23 GMT", "../x/", "http://x/", "/"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
front_matter = st.dictionaries(
    st.sampled_from(FRONT_MATTER_KEYS) | st.text(max_size=12), values, max_size=8
)


@st.composite
def post_files(draw: st.DrawFn) -> bytes:
    """Mostly YAML front-matter and a body; sometimes raw bytes or a broken fence."""
    shape = draw(st.sampled_from(["dated", "dated", "yaml", "bytes", "text", "no-fence"]))
    if shape == "bytes":
        return draw(st.binary(max_size=200))
    if shape == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    fields: dict[str, Any] = draw(front_matter)
    if shape == "dated":  # a date is required: give most files one, so many publish
        fields["date"] = draw(st.datetimes(min_value=datetime(1970, 1, 1)))
    try:
        header = yaml.safe_dump(fields, allow_unicode=True, default_flow_style=None)
    except yaml.YAMLError:
        header = draw(st.text(max_size=80))
    body = draw(st.text(max_size=300))
    closing = "" if shape == "no-fence" else "---\n"
    return f"---\n{header}{closing}\n{body}".encode("utf-8", "surrogatepass")


def test_any_post_file_is_published_or_rejected_with_a_recorded_error(
    pipeline: Pipeline,
) -> None:
    numbers = itertools.count()
    table = PostTable(pipeline.dynamodb, TABLE)

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(post_files())
    def check(raw: bytes) -> None:
        key = f"_posts/fuzz/{next(numbers)}.md"

        pipeline.put(key, raw)  # raises if the handler raised

        (outcome,) = pipeline.render_results[-1]["results"]
        assert outcome["outcome"] in ("published", "unpublished", "rejected"), outcome
        record = table.get_post(key)
        assert record is not None
        if outcome["outcome"] == "rejected":
            assert outcome["reason"] and outcome["error"].startswith(f"{key}: ")
            assert record.last_error == outcome["error"]
            failures = [f for f in table.recent_failures(5) if f.source_key == key]
            assert [f.reason for f in failures] == [outcome["reason"]]
        else:
            assert record.status == outcome["outcome"]
            published.append(key)

    published: list[str] = []

    check()
    assert published  # the strategy reaches the publishing path too
