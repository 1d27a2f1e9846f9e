"""Table key formats: the one place that knows how items are addressed.

One DynamoDB table, partition key ``pk`` and sort key ``sk`` (both strings):

=================  ===========================  ==========================================
item               pk                           sk
=================  ===========================  ==========================================
post record        ``POST#<source key>``        ``POST``
URL claim          ``URL#<site path>``          ``URL``  (owner; ``waited``)
URL waiter         ``WAITING#<site path>``      ``<source key rejected as url-conflict there>``
list membership    ``LIST#<list id>``           ``<local ISO date>#<source key>``
list registry      ``LISTS#<kind>``             ``<list id>``  (post count, names)
month count        ``MONTHS#<list id>``         ``YYYY-MM``  (post count of the month, names)
post name          ``NAME#<post name>``         ``NAME``  (owner, URL, title; ``linked``)
reverse link       ``LINKED#<post name>``       ``<source key of the linking post>``
failure record     ``FAIL``                     ``<ISO time>#<source key>#<version>``
activity record    ``ACTIVITY``                 ``<ISO time>#<source key>#<version>``
audit record       ``AUDIT``                    ``<ISO time>#<request id>``
idempotency record ``IDEMPOTENCY``              ``<hash of the admin request id>`` (Powertools)
sitemap page       ``PAGES``                    ``<source key>``  (a standalone page's URL)
page set counter   ``PAGESET``                  ``PAGESET``  (change counter of the pages sitemap)
page state         ``PAGE#<site path>``         ``PAGE``  (an index page's ETag, hash, counter)
=================  ===========================  ==========================================

Membership sort keys start with the post's date in the site timezone, so a month archive
is one ``begins_with`` query and a landing page one reverse query with a limit. Every item a
publish writes has a size bounded by the post, never by the site: a listing's months are
one small item each, so an old site's listing costs what a young one's does.

Every key is built here and read back here: ``partition_of`` names the item a partition key
addresses, and the ``*_of`` helpers take sort keys apart, so no other module splits a key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from blogpub import dates

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_at"

ItemKind = Literal[
    "post",
    "url_claim",
    "membership",
    "registry",
    "month_count",
    "post_name",
    "reverse_link",
    "url_waiter",
    "failure",
    "activity",
    "audit",
    "idempotency",
    "sitemap_page",
    "page_set",
    "page_state",
    "other",
]

_POST = "POST#"
_URL = "URL#"
_LIST = "LIST#"
_LISTS = "LISTS#"
_MONTHS = "MONTHS#"
_NAME = "NAME#"
_LINKED = "LINKED#"
_WAITING = "WAITING#"
_PAGE = "PAGE#"
_SEPARATOR = "#"

# DynamoDB caps sort keys at 1,024 bytes and S3 object keys at 1,024: a source key leaves
# room for a date or time prefix and a version id (event sort keys).
MAX_SOURCE_KEY_BYTES = 900


def post_pk(source_key: str) -> str:
    return f"{_POST}{source_key}"


POST_SK = "POST"
# Every post record's partition key starts with this (a scan's filter for post records).
POST_PK_PREFIX = _POST


def url_pk(url: str) -> str:
    return f"{_URL}{url}"


URL_SK = "URL"


def list_pk(list_id: str) -> str:
    return f"{_LIST}{list_id}"


def membership_sk(local_date_iso: str, source_key: str) -> str:
    return f"{local_date_iso}{_SEPARATOR}{source_key}"


def month_prefix(year: int, month: int) -> str:
    return dates.month_key(year, month)


def registry_pk(kind: str) -> str:
    return f"{_LISTS}{kind}"


def months_pk(list_id: str) -> str:
    return f"{_MONTHS}{list_id}"


def name_pk(name: str) -> str:
    """A post's name (Hexo's slug: the key below the posts prefix without its extension),
    which ``post_link``/``post_path`` targets resolve through."""
    return f"{_NAME}{name}"


NAME_SK = "NAME"


def linked_pk(name: str) -> str:
    """The posts that link to a name, one item each, sort key their source key."""
    return f"{_LINKED}{name}"


def waiting_pk(url: str) -> str:
    """The source keys waiting for a URL another key owns, one item each, sort key theirs."""
    return f"{_WAITING}{url}"


def page_state_pk(url: str) -> str:
    """What the index builder last wrote at an index page's URL (indexes.py)."""
    return f"{_PAGE}{url}"


# Also the template's stream filter (FilterCriteria): no other item's sort key may be "PAGE"
# (the sort keys that are source keys end in .md or .html).
PAGE_STATE_SK = "PAGE"
FAIL_PK = "FAIL"
ACTIVITY_PK = "ACTIVITY"
AUDIT_PK = "AUDIT"
IDEMPOTENCY_PK = "IDEMPOTENCY"
# Standalone pages (about/index.md), one item each: what /sitemaps/pages.xml lists.
PAGES_PK = "PAGES"
# The change counter of that set of pages, moved whenever a page enters, moves in or leaves it.
PAGE_SET_PK = "PAGESET"
PAGE_SET_SK = "PAGESET"


def event_sk(at_iso: str, source_key: str, version_id: str) -> str:
    """A key too long to publish is still recorded: cut, with a digest of the whole key."""
    return f"{at_iso}{_SEPARATOR}{_bounded_key(source_key)}{_SEPARATOR}{version_id}"


def _bounded_key(source_key: str) -> str:
    encoded = source_key.encode("utf-8")
    if len(encoded) <= MAX_SOURCE_KEY_BYTES:
        return source_key
    digest = hashlib.sha256(encoded).hexdigest()[:16]
    return encoded[: MAX_SOURCE_KEY_BYTES - 17].decode("utf-8", "ignore") + "~" + digest


def audit_sk(at_iso: str, request_id: str) -> str:
    return f"{at_iso}{_SEPARATOR}{request_id}"


# Longest prefix first: "LISTS#" must not read as a "LIST#" partition.
_PREFIXED: tuple[tuple[str, ItemKind], ...] = (
    (_LISTS, "registry"),
    (_LIST, "membership"),
    (_MONTHS, "month_count"),
    (_POST, "post"),
    (_URL, "url_claim"),
    (_NAME, "post_name"),
    (_LINKED, "reverse_link"),
    (_WAITING, "url_waiter"),
    (_PAGE, "page_state"),
)
_FIXED: dict[str, ItemKind] = {
    FAIL_PK: "failure",
    ACTIVITY_PK: "activity",
    AUDIT_PK: "audit",
    IDEMPOTENCY_PK: "idempotency",
    PAGES_PK: "sitemap_page",
    PAGE_SET_PK: "page_set",
}


def partition_of(pk: str) -> tuple[ItemKind, str]:
    """Which item a partition key addresses, and what it names: the source key of a post
    record, the URL of a claim or a waiter, the post name of a name or reverse-link item,
    the list id of a membership or month count, the list kind of a registry ("" for the
    fixed partitions, the whole key for one blogpub never writes)."""
    for prefix, kind in _PREFIXED:
        if pk.startswith(prefix):
            return kind, pk.removeprefix(prefix)
    fixed = _FIXED.get(pk)
    return (fixed, "") if fixed is not None else ("other", pk)


def month_of(sort_key: str) -> tuple[int, int]:
    """(year, month) of a membership sort key, a month count's sort key or a local date key."""
    return int(sort_key[0:4]), int(sort_key[5:7])


def membership_of(sk: str) -> tuple[str, str]:
    """(local ISO date, source key) of a membership sort key."""
    local_date_iso, _, source_key = sk.partition(_SEPARATOR)
    return local_date_iso, source_key


@dataclass(frozen=True)
class EventKey:
    """What a failure or activity sort key says: when, which file, which version."""

    at: str
    source_key: str
    version_id: str


def event_of(sk: str) -> EventKey:
    """The parts of a failure or activity sort key; source keys may hold "#", versions not."""
    at, _, rest = sk.partition(_SEPARATOR)
    source_key, _, version_id = rest.rpartition(_SEPARATOR)
    return EventKey(at, source_key, version_id)


def audit_of(sk: str) -> tuple[str, str]:
    """(ISO time, request id) of an audit sort key (request ids hold no "#")."""
    at, _, request_id = sk.rpartition(_SEPARATOR)
    return at, request_id
