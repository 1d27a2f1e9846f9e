"""post_link through the local stack (issue 14): the linking post is uploaded before its
target, the target is then moved; the linking post is re-rendered through RebuildQueue each
time, and the site ends byte-equal to a fresh stack's publish of the final files."""

from __future__ import annotations

import pytest
from blogpub_local.stack import LocalStack

from tests.e2e.conftest import local_stack, s3_client, site_objects

pytestmark = pytest.mark.e2e

TARGET = "_posts/guides/hello-world.md"
LINKER = "_posts/linker.md"
LINKER_TEXT = (
    "---\ntitle: Linker\ndate: 2024-03-02 09:00:00\n---\n\n"
    "See {% post_link guides/hello-world %}.\n"
)


def target_text(permalink: str = "") -> str:
    extra = f"permalink: {permalink}\n" if permalink else ""
    return f"---\ntitle: Hello World\ndate: 2024-03-01 09:00:00\n{extra}---\n\nThe guide.\n"


def upload(stack: LocalStack, key: str, text: str) -> None:
    assert stack.info is not None
    s3_client(stack).put_object(Bucket=stack.info.source_bucket, Key=key, Body=text.encode())
    assert stack.wait_until_idle(180)


def linker_page(stack: LocalStack) -> str:
    return site_objects(stack)["2024/03/02/linker/index.html"].decode("utf-8")


def test_a_link_uploaded_before_its_target_follows_the_target(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with local_stack(tmp_path_factory, "links") as stack:
        upload(stack, LINKER, LINKER_TEXT)
        assert "See guides/hello-world." in linker_page(stack)
        upload(stack, TARGET, target_text())
        assert 'See <a href="/2024/03/01/guides/hello-world/"' in linker_page(stack)
        upload(stack, TARGET, target_text("guides/hello/"))
        assert 'See <a href="/guides/hello/" title="Hello World">' in linker_page(stack)
        site = site_objects(stack)
    with local_stack(tmp_path_factory, "links-clean") as clean:
        upload(clean, TARGET, target_text("guides/hello/"))
        upload(clean, LINKER, LINKER_TEXT)
        assert site == site_objects(clean)
