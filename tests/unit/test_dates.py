"""Hexo's date rules: every form, naive forms in the site timezone, bad dates refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from blogpub import dates
from blogpub.dates import parse_date
from blogpub.errors import DateError, PostError

SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8, no DST
NEW_YORK = ZoneInfo("America/New_York")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        # RFC 2822, as the RSS importers write it
        ("Sat, 05 Feb 2022 11:13:23 GMT", utc(2022, 2, 5, 11, 13, 23)),
        ("Sat, 05 Feb 2022 19:13:23 +0800", utc(2022, 2, 5, 11, 13, 23)),
        ("Sat, 05 Feb 2022 11:13:23 -0000", utc(2022, 2, 5, 11, 13, 23)),
        # ISO 8601 with an offset or Z
        ("2022-02-05T11:13:23Z", utc(2022, 2, 5, 11, 13, 23)),
        ("2022-02-05T19:13:23+08:00", utc(2022, 2, 5, 11, 13, 23)),
        ("2022-02-05 06:13:23-05:00", utc(2022, 2, 5, 11, 13, 23)),
        ("2022-02-05T11:13:23.250Z", utc(2022, 2, 5, 11, 13, 23) + timedelta(milliseconds=250)),
        ("2022-2-5 19:13:23 +0800", utc(2022, 2, 5, 11, 13, 23)),
        # JavaScript Date.toString()
        ("Sat Feb 05 2022 19:13:23 GMT+0800 (China Standard Time)", utc(2022, 2, 5, 11, 13, 23)),
    ],
)
def test_forms_with_an_offset_keep_it(value: str, instant: datetime) -> None:
    parsed = parse_date(value, NEW_YORK)

    assert parsed.tzinfo is not None
    assert parsed == instant


@pytest.mark.parametrize(
    ("value", "wall_clock"),
    [
        ("2022-02-05 19:13:23", datetime(2022, 2, 5, 19, 13, 23)),
        ("2022-02-05T19:13:23", datetime(2022, 2, 5, 19, 13, 23)),
        ("2022-02-05", datetime(2022, 2, 5)),
        ("2022/2/5 9:05", datetime(2022, 2, 5, 9, 5)),
        ("2022-02-05 19:13", datetime(2022, 2, 5, 19, 13)),
        ("Sat, 05 Feb 2022 19:13:23", datetime(2022, 2, 5, 19, 13, 23)),
        (datetime(2022, 2, 5, 19, 13, 23), datetime(2022, 2, 5, 19, 13, 23)),  # YAML timestamp
        (date(2022, 2, 5), datetime(2022, 2, 5)),  # YAML date
    ],
)
def test_forms_without_an_offset_are_in_the_site_timezone(
    value: object, wall_clock: datetime
) -> None:
    parsed = parse_date(value, SHANGHAI)

    assert parsed.utcoffset() == timedelta(hours=8)
    assert parsed.replace(tzinfo=None) == wall_clock


def test_an_aware_yaml_timestamp_keeps_its_own_offset() -> None:
    plus_two = timezone(timedelta(hours=2))

    parsed = parse_date(datetime(2022, 2, 5, 13, 0, tzinfo=plus_two), SHANGHAI)

    assert parsed == utc(2022, 2, 5, 11, 0)


def test_site_timezone_follows_daylight_saving() -> None:
    winter = parse_date("2022-01-15 12:00:00", NEW_YORK)
    summer = parse_date("2022-07-15 12:00:00", NEW_YORK)

    assert winter.utcoffset() == timedelta(hours=-5)
    assert summer.utcoffset() == timedelta(hours=-4)


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_date("  2022-02-05 11:13:23\n", UTC) == utc(2022, 2, 5, 11, 13, 23)


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2022-13-01",
        "2022-02-30 10:00:00",
        "Sat, 35 Feb 2022 11:13:23 GMT",
        "05/02/22",
        1644059603,
        1644059603000.0,
        True,
        None,
        ["2022-02-05"],
        {"at": "2022-02-05"},
        "0999-01-01",
        datetime(9999, 12, 31, 23, 0),
    ],
)
def test_anything_else_is_a_date_error(value: object) -> None:
    with pytest.raises(DateError) as raised:
        parse_date(value, UTC, key="updated")

    assert isinstance(raised.value, PostError)
    assert raised.value.key == "updated"
    assert "updated" in str(raised.value)
    assert raised.value.value == (value.strip() if isinstance(value, str) else value)


# --- written forms ------------------------------------------------------------------------

# moment-timezone 0.5.48 (Hexo 8.1.2's): moment.tz(instant, zone).format(...) with
# "YYYY-MM-DD[T]HH:mm:ss" and "YYYY-MM".
MOMENT_TIMEZONE_LOCAL = [
    ("2022-02-05T03:13:23Z", "Asia/Shanghai", "2022-02-05T11:13:23", "2022-02"),
    ("2022-12-31T16:30:00Z", "Asia/Shanghai", "2023-01-01T00:30:00", "2023-01"),
    ("2022-01-01T04:59:59Z", "America/New_York", "2021-12-31T23:59:59", "2021-12"),
    ("2022-03-13T07:30:00Z", "America/New_York", "2022-03-13T03:30:00", "2022-03"),
    ("2022-10-30T00:59:59Z", "Europe/Berlin", "2022-10-30T02:59:59", "2022-10"),
    ("2022-10-30T01:00:00Z", "Europe/Berlin", "2022-10-30T02:00:00", "2022-10"),
    ("2021-12-31T23:59:59Z", "UTC", "2021-12-31T23:59:59", "2021-12"),
    ("2022-06-15T12:00:00Z", "Asia/Kolkata", "2022-06-15T17:30:00", "2022-06"),
    ("2022-02-28T13:45:00Z", "Pacific/Auckland", "2022-03-01T02:45:00", "2022-03"),
]


@pytest.mark.parametrize(("instant", "zone", "local", "month"), MOMENT_TIMEZONE_LOCAL)
def test_site_local_sort_keys_and_months_are_what_hexo_shows(
    instant: str, zone: str, local: str, month: str
) -> None:
    moment = datetime.fromisoformat(instant)
    tz = ZoneInfo(zone)

    assert dates.local_sort_key(moment, tz) == local
    local_moment = dates.local_date(moment, tz)
    assert dates.month_key(local_moment.year, local_moment.month) == month
    assert local.startswith(month)


# Node 20.20: new Date(milliseconds).toISOString(), the form of S3's eventTime.
JS_ISO_STRINGS = [
    (0, "1970-01-01T00:00:00.000Z"),
    (1643944403000, "2022-02-04T03:13:23.000Z"),
    (1643944403512, "2022-02-04T03:13:23.512Z"),
    (1643944403999, "2022-02-04T03:13:23.999Z"),
    (1764323467087, "2025-11-28T09:51:07.087Z"),
]


@pytest.mark.parametrize(("milliseconds", "iso"), JS_ISO_STRINGS)
def test_event_times_are_written_as_s3_writes_them(milliseconds: int, iso: str) -> None:
    moment = datetime.fromtimestamp(milliseconds / 1000, UTC)

    assert dates.event_time(moment) == iso
    assert dates.event_time(moment.astimezone(ZoneInfo("Asia/Shanghai"))) == iso


def test_record_times_are_utc_with_milliseconds_so_they_sort_as_time() -> None:
    earlier = datetime(2022, 2, 5, 11, 13, 23, 512_999, tzinfo=ZoneInfo("Asia/Shanghai"))
    later = datetime(2022, 2, 5, 3, 13, 24, tzinfo=UTC)

    assert dates.record_time(earlier) == "2022-02-05T03:13:23.512+00:00"
    assert dates.record_time(earlier) < dates.record_time(later)
