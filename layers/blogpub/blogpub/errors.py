"""The exception families. Messages carry what a user needs to fix the input."""

from __future__ import annotations

from typing import Any

# Messages land in failure records, logs and `blogpub status`: a hostile value (a 72 MB
# alias expansion, a 500 KB title) is quoted cut to this, with its full length.
QUOTED_CHARACTERS = 200
MAX_PROBLEM_CHARACTERS = 1000


def quoted(value: Any, limit: int = QUOTED_CHARACTERS) -> str:
    """``repr(value)`` cut to ``limit`` characters plus the original length, never huge."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} characters)"
    if isinstance(value, (list, tuple, dict, set, frozenset)) and len(value) > limit:
        return f"<{type(value).__name__} of {len(value)} items>"
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # ints past the digit limit, self-containing lists
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def bounded(text: str, limit: int = MAX_PROBLEM_CHARACTERS) -> str:
    """Free text (a parser's message) cut to ``limit`` characters plus its length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class BlogpubError(Exception):
    """Base of every error blogpub raises on purpose."""


class PostError(BlogpubError):
    """A source file that cannot be a post. Deterministic: retrying will not help.

    ``source`` is the file (object key or path), ``key`` the front-matter key at fault
    (or None for whole-file problems), ``value`` the offending value.
    """

    reason = "invalid-post"

    def __init__(
        self, problem: str, *, source: str = "", key: str | None = None, value: Any = None
    ) -> None:
        self.problem = bounded(problem)
        self.source = source
        self.key = key
        self.value = value
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{bounded(self.source)}: " if self.source else ""
        if self.key is None:
            return f"{where}{self.problem}"
        return f"{where}front-matter key {quoted(self.key)} = {quoted(self.value)}: {self.problem}"

    def with_source(self, source: str) -> PostError:
        """The same error, naming the file it came from."""
        self.source = source
        self.args = (self._message(),)
        return self


class EncodingError(PostError):
    reason = "not-utf8"


class FrontMatterError(PostError):
    reason = "bad-front-matter"


class DateError(PostError):
    reason = "bad-date"


class FieldTypeError(PostError):
    reason = "bad-field-type"


class PermalinkError(PostError):
    reason = "bad-permalink"


class TooLargeError(PostError):
    reason = "too-large"


class TooDeepError(PostError):
    """A body nested past what renders in bounded time."""

    reason = "too-deep"


class TooComplexError(PostError):
    """A body with more inline markup than renders in bounded memory."""

    reason = "too-complex"


class KeyTooLongError(PostError):
    """A source key (or a key derived from it) longer than S3 or DynamoDB allows."""

    reason = "key-too-long"


class UnreadableError(PostError):
    """A file that made the reader fail in a way no rule names; still the file's fault."""

    reason = "unreadable"


class UrlConflictError(PostError):
    """Another post already owns the URL this post would be published at."""

    reason = "url-conflict"

    def __init__(self, url: str, owner: str, *, source: str = "") -> None:
        self.url = url
        self.owner = owner
        super().__init__(f"URL {url} is already owned by {owner}", source=source)


class NameConflictError(PostError):
    """Another source file has the same post name (``a.md`` beside ``a.markdown``)."""

    reason = "name-conflict"


class SettingsError(BlogpubError):
    """A _config.yml that cannot be used."""


class TransientError(BlogpubError):
    """A failure worth retrying (throttling, 5xx, lost races)."""


class StreamBatchError(BlogpubError):
    """No record of a table stream batch could be read: the invocation fails and is retried."""


class AdminRequestError(BlogpubError):
    """An admin request (RollbackFunction) that cannot be carried out as asked.

    Deterministic: the message says what to change; ``code`` is a stable slug for scripts.
    """

    code = "invalid-request"


class UnknownKeyError(AdminRequestError):
    code = "unknown-key"


class UnknownVersionError(AdminRequestError):
    code = "unknown-version"


class OutsideRetentionError(AdminRequestError):
    code = "outside-retention-window"


class FutureTimeError(AdminRequestError):
    code = "time-in-future"
