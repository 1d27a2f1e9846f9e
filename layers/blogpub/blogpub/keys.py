"""Table key formats: the one place that knows how items are addressed.

One DynamoDB table, partition key ``pk`` and sort key ``sk`` (both strings):

=================  ===========================  ==========================================
item               pk                           sk
=================  ===========================  ==========================================
post record        ``POST#<source key>``        ``POST``
URL claim          ``URL#<site path>``          ``URL``
list membership    ``LIST#<list id>``           ``<local ISO date>#<source key>``
list registry      ``LISTS#<kind>``             ``<list id>``  (post count, names)
month count        ``MONTHS#<list id>``         ``YYYY-MM``  (post count of the month, names)
failure record     ``FAIL``                     ``<ISO time>#<source key>#<version>``
activity record    ``ACTIVITY``                 ``<ISO time>#<source key>#<version>``
audit record       ``AUDIT``                    ``<ISO time>#<request id>``
idempotency record ``IDEMPOTENCY``              ``<hash of the admin request id>`` (Powertools)
=================  ===========================  ==========================================

Membership sort keys start with the post's date in the site timezone, so a month archive
is one ``begins_with`` query and a landing page one reverse query with a limit. Every item a
publish writes has a size bounded by the post, never by the site: a listing's months are
one small item each, so an old site's listing costs what a young one's does.
"""

from __future__ import annotations

from blogpub import dates

PK = "pk"
SK = "sk"
TTL_ATTRIBUTE = "expires_at"


def post_pk(source_key: str) -> str:
    return f"POST#{source_key}"


POST_SK = "POST"


def url_pk(url: str) -> str:
    return f"URL#{url}"


URL_SK = "URL"


def list_pk(list_id: str) -> str:
    return f"LIST#{list_id}"


def membership_sk(local_date_iso: str, source_key: str) -> str:
    return f"{local_date_iso}#{source_key}"


def month_prefix(year: int, month: int) -> str:
    return dates.month_key(year, month)


def registry_pk(kind: str) -> str:
    return f"LISTS#{kind}"


def months_pk(list_id: str) -> str:
    return f"MONTHS#{list_id}"


FAIL_PK = "FAIL"
ACTIVITY_PK = "ACTIVITY"
AUDIT_PK = "AUDIT"
IDEMPOTENCY_PK = "IDEMPOTENCY"


def event_sk(at_iso: str, source_key: str, version_id: str) -> str:
    return f"{at_iso}#{source_key}#{version_id}"
