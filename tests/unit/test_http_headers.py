"""blogpub_local.http_headers reads a header block into the message http.client's own makes."""

from __future__ import annotations

import http.client
import io

import pytest
from blogpub_local import http_headers

BLOCKS = [
    b"Host: 127.0.0.1:4566\r\nContent-Length: 5\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n\r\n",
    b'x-amz-id-2: a==\r\nETag: "abc"\r\nx-amz-meta-sha256: 00ff\r\nDate: Wed, 02 Dec 2026\r\n\r\n',
    b"Name:value\r\nSpaced:   lots of   room   \r\nTab:\tv\r\nEmpty:\r\nColon: a:b:c\r\n\r\n",
    b"Dup: 1\r\nDup: 2\r\nLatin: caf\xe9\r\nUnix: lf\n\n",
    b"Folded: first\r\n second line\r\n\r\n",
    b"From nobody Mon Jan  1 00:00:00 2024\r\nHost: x\r\n\r\n",
    b"Bad Name: v\r\nHost: x\r\n\r\n",
    b"NoColon\r\nHost: x\r\n\r\n",
    b"Host: x\r\nCut: at the end",
    b"Host: x\r\n",
    b"\r\n",
    b"",
]


@pytest.mark.parametrize("block", BLOCKS)
def test_a_header_block_makes_the_message_http_clients_parser_makes(block: bytes) -> None:
    ours = http_headers.parse_headers(io.BytesIO(block + b"body"))
    theirs = http.client.parse_headers(io.BytesIO(block + b"body"))
    assert type(ours) is type(theirs)
    assert _state(ours) == _state(theirs)
    assert ours.items() == theirs.items()


def _state(message: http.client.HTTPMessage) -> dict[str, object]:
    """The message's attributes; defects by kind (each is a new object)."""
    state = dict(vars(message))
    state["defects"] = [type(defect).__name__ for defect in message.defects]
    return state


def test_plain_blocks_skip_the_email_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("email.parser used")

    monkeypatch.setattr(http_headers.email.parser.Parser, "parsestr", refuse)
    message = http_headers.parse_headers(io.BytesIO(BLOCKS[0]))
    assert message["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    with pytest.raises(AssertionError, match=r"email\.parser used"):
        http_headers.parse_headers(io.BytesIO(BLOCKS[4]))  # a folded line: the parser's
