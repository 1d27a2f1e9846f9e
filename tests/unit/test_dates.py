"""Hexo's date rules: every form, naive forms in the site timezone, bad dates refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
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
