"""The tokenizer finds what tags point at without expanding them, exactly as expansion does."""

from __future__ import annotations

import pytest
from blogpub.publish import linked_names
from blogpub.tags import TagContext, expand_tags
from blogpub.tags.references import asset_references, linked_targets

TRICKY_BODIES = {
    "plain": "See {% post_link hello %} and {% post_path other-post %}.\n",
    "fences": (
        "```\n{% post_link in-backtick-fence %}\n```\n\n"
        "~~~md\n{% post_link in-tilde-fence %}\n~~~\n\n"
        "> ```\n> {% post_link in-quoted-fence %}\n> ```\n\n"
        "{% post_link after-fences %}\n"
    ),
    "inline code": (
        "Inline `{% post_link in-code %}`, ``{% post_path in-double %}``, "
        "<code>{% post_link in-element %}</code> and {% post_link outside %}.\n"
    ),
    "unclosed backtick": "It`s {% post_link after-stray-backtick %}.\n",
    "raw": (
        "{% raw %}{% post_link in-raw %}{% endraw %} {%- raw -%}{% post_path raw2 %}"
        "{%- endraw -%}\n\n{% post_link after-raw %}\n"
    ),
    "quoted names": (
        '{% post_link "My Post" "A title" %} {% post_link \'single quoted\' %} '
        '{% post_link "with \\"escapes\\"" %} {% post_path "spaced name" %} '
        "{% post_link don't %}\n"
    ),
    "anchors": "{% post_link a#section %} {% post_link b#one#two %} {% post_path c#x %}\n",
    "trim dashes": "{%- post_link dashed -%} {%post_link tight%}\n",
    "nested in paired tags": (
        "{% note info %}\nIn a note {% post_link in-note %}\n{% endnote %}\n\n"
        "{% tabs t %}\n<!-- tab A -->\n{% post_path in-tab %}\n<!-- endtab -->\n{% endtabs %}\n\n"
        "{% blockquote %}\n{% post_link in-quote %}\n{% endblockquote %}\n"
    ),
    "unknown and unclosed tags around": (
        "{% mystery %}{% post_link in-unknown %}{% endmystery %}\n\n"
        "{% note %}never closed {% post_link in-unclosed %}\n"
    ),
    "duplicates and empty": (
        "{% post_link same %} {% post_link same Other title %} {% post_path same %} "
        "{% post_link %} {% post_path %}\n"
    ),
    "variables and comments": (
        '{{ "{% post_link in-variable %}" }} {# {% post_link in-comment %} #} '
        "{% post_link after-comment %}\n"
    ),
    "assets": (
        "{% asset_img left big.png 300 'title' %}\n\n`{% asset_img in-code.png %}`\n\n"
        "{% asset_image alias.png %} {% asset_link doc.pdf Docs %} {% asset_path data.csv %} "
        "{% asset_link %} {% raw %}{% asset_path raw.csv %}{% endraw %}\n"
    ),
}


class RecordingFolder(frozenset[str]):
    """An empty asset folder that remembers every name a tag looked up in it."""

    asked: list[str]

    def __contains__(self, name: object) -> bool:
        self.asked.append(str(name))
        return False


def expanded(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(post_link/post_path targets, asset names looked up) as full expansion finds them."""
    folder = RecordingFolder()
    folder.asked = []
    context = TagContext(render_markdown=lambda text: text, assets=folder)
    linked = expand_tags(body, context).linked_posts
    return linked, tuple(dict.fromkeys(folder.asked))


@pytest.mark.parametrize("body", TRICKY_BODIES.values(), ids=TRICKY_BODIES.keys())
def test_the_tokenizer_finds_the_targets_expansion_finds(body: str) -> None:
    linked, asked = expanded(body)

    assert linked_targets(body) == linked
    assert set(asset_references(body)) == set(asked)


def test_targets_as_expected_on_the_tricky_bodies() -> None:
    assert linked_targets(TRICKY_BODIES["fences"]) == ("after-fences",)
    assert linked_targets(TRICKY_BODIES["inline code"]) == ("outside",)
    assert linked_targets(TRICKY_BODIES["raw"]) == ("after-raw",)
    assert linked_targets(TRICKY_BODIES["quoted names"]) == (
        "My Post",
        "single quoted",
        'with "escapes"',
        "spaced name",
        "don't",
    )
    assert linked_targets(TRICKY_BODIES["anchors"]) == ("a", "b#one#two", "c#x")
    assert linked_targets(TRICKY_BODIES["nested in paired tags"]) == (
        "in-note",
        "in-tab",
        "in-quote",
    )
    assert linked_targets(TRICKY_BODIES["duplicates and empty"]) == ("same",)
    assert linked_targets(TRICKY_BODIES["variables and comments"]) == ("after-comment",)
    assert asset_references(TRICKY_BODIES["assets"]) == (
        *("left", "big.png", "300", "title", "alias.png", "doc.pdf", "data.csv"),
    )


def test_linked_names_reads_the_tokens_and_keeps_its_rules() -> None:
    body = "{% post_link _posts/guides/a.md %} {% post_link b %} ```{% post_link c %}```\n"

    assert linked_names(body, "_posts/") == ("guides/a", "b")
    assert linked_names("{% post_link " + "x" * 2000 + " %}", "_posts/") == ()
