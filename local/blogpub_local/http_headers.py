"""HTTP header blocks read without the email package's parser, for the local stack's HTTP.

http.server (moto's endpoint) and http.client (every SDK call the functions make) hand each
header block to ``email.parser``: a FeedParser per request and per response, 7 % of the moto
process and of the functions' process in a bulk import. Plain ``Name: value`` lines are kept
here exactly as that parser keeps them (compat32's ``header_source_parse``, then ``set_raw``,
and the empty payload it leaves); any other block (a folded line, a name the parser would not
take as one, a line without its end) is handed to the parser itself, as before.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from typing import Any

# email.feedparser's header line: a field name of printable characters but ':' and space.
_FIELD_NAME = re.compile(r"[\041-\071\073-\176]+")
_ENDS = (b"\r\n", b"\n", b"")


def parse_headers(fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage) -> Any:
    """``http.client.parse_headers``: the same message, parsed without email.parser when plain."""
    lines: list[bytes] = http.client._read_headers(fp)  # type: ignore[attr-defined]
    message = _plain(lines, _class)
    if message is None:
        text = b"".join(lines).decode("iso-8859-1")
        return email.parser.Parser(_class=_class).parsestr(text)
    return message


def _plain(lines: list[bytes], message_class: type[http.client.HTTPMessage]) -> Any:
    if not lines or lines[-1] not in _ENDS:
        return None
    message = message_class()
    for line in lines[:-1]:
        if not line.endswith(b"\n"):
            return None
        name, colon, value = line.decode("iso-8859-1").partition(":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            return None
        message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    message.set_payload("")
    return message


def install() -> None:
    """Read header blocks this way in this process (idempotent; a Python without
    http.client's ``_read_headers`` keeps its own parser)."""
    if hasattr(http.client, "_read_headers"):
        http.client.parse_headers = parse_headers  # type: ignore[assignment]
