"""Every date rule in one place: reading front-matter dates the way Hexo does, and each
string a date becomes (site-local dates, month keys, sort keys, event and record times).

Hexo reads dates with js-yaml timestamps and JavaScript's ``new Date(string)``, then puts
every time written without an offset in the site timezone (``timezone`` in _config.yml).
We accept the same forms and apply the same rule:

- a YAML timestamp (PyYAML gives ``datetime`` or ``date``): naive ones are site-local;
- ISO 8601 with or without an offset, ``T`` or a space between date and time, ``Z``;
- ``YYYY-MM-DD HH:mm:ss``, ``YYYY-MM-DD``, ``YYYY/M/D H:mm`` (moment-style, site-local);
- RFC 2822 (``Sat, 05 Feb 2022 11:13:23 GMT``), the RSS importers' form;
- JavaScript's ``Date.toString()`` (``Sat Feb 05 2022 19:13:23 GMT+0800 (...)``).

Written forms: a site-local ``YYYY-MM-DDTHH:MM:SS`` orders the posts of a listing, its
``YYYY-MM`` prefix names the month, S3 event times are UTC with milliseconds and ``Z``, and
table records carry UTC ISO 8601 with milliseconds (so string order is time order).

Numbers are refused although JavaScript would read them as epoch milliseconds: a bare
number in front-matter is far more often a typo than a timestamp, and seconds versus
milliseconds cannot be told apart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from blogpub.errors import DateError

# Four-digit years keep ISO strings (table sort keys) ordered, with a day of slack for
# timezone shifts at either end.
MIN_YEAR = 1000
MAX_YEAR = 9998

_LOOSE_DATE = re.compile(
    r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})"
    r"(?:[T ]+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<offset>Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_JS_DATE_STRING = re.compile(
    r"[A-Za-z]{3} (?P<month>[A-Za-z]{3}) (?P<day>\d{1,2}) (?P<year>\d{4}) "
    r"(?P<time>\d{1,2}:\d{2}:\d{2}) GMT(?P<offset>[+-]\d{4})(?: \(.*\))?"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


def parse_date(value: object, tz: tzinfo, *, key: str = "date") -> datetime:
    """A front-matter date as an aware datetime; times without an offset are in ``tz``.

    Raises DateError (naming ``key`` and the value) for anything that is not a date.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        parsed = _parse_text(value.strip(), key=key)
    else:
        raise DateError(
            f"expected a date such as 2022-02-05 11:13:23, got {type(value).__name__}",
            key=key,
            value=value,
        )
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)
    return _checked_range(aware, key=key, value=value)


def _parse_text(text: str, *, key: str) -> datetime:
    for parse in (_parse_iso, _parse_loose, _parse_js_date_string, _parse_rfc2822):
        parsed = parse(text)
        if parsed is not None:
            return parsed
    raise DateError(
        "not a date Hexo understands (use YYYY-MM-DD HH:mm:ss, ISO 8601 or RFC 2822)",
        key=key,
        value=text,
    )


def _parse_iso(text: str) -> datetime | None:
    # fromisoformat accepts "2022-02-05", "2022-02-05 11:13:23", "...T11:13:23.5+08:00", "Z"
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_loose(text: str) -> datetime | None:
    match = _LOOSE_DATE.fullmatch(text)
    if match is None:
        return None
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            int(fraction),
            tzinfo=_offset(match["offset"]),
        )
    except ValueError:
        return None


def _offset(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    sign = -1 if text[0] == "-" else 1
    return timezone(timedelta(minutes=sign * minutes))


def _parse_rfc2822(text: str) -> datetime | None:
    if not any(ch.isalpha() for ch in text):
        return None
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 5322 "-0000" means UTC with no local zone known; email.utils leaves it naive.
    if parsed.tzinfo is None and re.search(r"[+-]0000\s*$", text):
        return parsed.replace(tzinfo=UTC)
    return parsed


def _parse_js_date_string(text: str) -> datetime | None:
    match = _JS_DATE_STRING.fullmatch(text)
    if match is None or match["month"].lower() not in _MONTHS:
        return None
    hour, minute, second = (int(part) for part in match["time"].split(":"))
    try:
        return datetime(
            int(match["year"]),
            _MONTHS[match["month"].lower()],
            int(match["day"]),
            hour,
            minute,
            second,
            tzinfo=_offset(match["offset"]),
        )
    except ValueError:
        return None


def _checked_range(moment: datetime, *, key: str, value: object) -> datetime:
    try:
        in_utc = moment.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise DateError("the date is out of range", key=key, value=value) from error
    if not MIN_YEAR <= in_utc.year <= MAX_YEAR:
        raise DateError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}", key=key, value=value)
    return moment


def local_date(moment: datetime, tz: tzinfo) -> datetime:
    """The moment in the site timezone: what Hexo shows and builds permalinks from."""
    return moment.astimezone(tz)


def local_sort_key(moment: datetime, tz: tzinfo) -> str:
    """ "YYYY-MM-DDTHH:MM:SS" in the site timezone: sorts like the moments it stands for."""
    local = local_date(moment, tz)
    return f"{month_key(local.year, local.month)}-{local.day:02d}T{local:%H:%M:%S}"


def month_key(year: int, month: int) -> str:
    """ "YYYY-MM": a month archive's name, and the prefix of its posts' sort keys."""
    return f"{year:04d}-{month:02d}"


def event_time(moment: datetime) -> str:
    """An S3 notification's ``eventTime``: UTC, milliseconds, "Z" ("2022-02-05T03:13:23.000Z")."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def record_time(moment: datetime) -> str:
    """A moment as the table records it ("2022-02-05T03:13:23.000+00:00"), in UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def rss_date(moment: datetime, tz: tzinfo) -> str:
    """RSS 2.0's RFC 822 date in the site timezone: "Sat, 05 Feb 2022 10:00:00 +0800"."""
    from email.utils import format_datetime

    return format_datetime(local_date(moment, tz))
