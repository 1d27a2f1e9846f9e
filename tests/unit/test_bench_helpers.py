"""The bench's pure helpers: DynamoDB capacity arithmetic and the generated sites' dates."""

from __future__ import annotations

import sys
from collections import Counter

from blogpub_local.item_sizes import item_size, value_size

from bench import capacity
from tests.conftest import REPO

# bench/ is a folder of scripts, not a package.
sys.path.insert(0, str(REPO / "bench"))

import posts


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    # "pk" + "a-key" = 2 + 6; "x" + 12345 = 1 + (ceil(5 / 2) + 1); "b" + 3 raw bytes.
    item = {"pk": {"S": "a-key!"}, "x": {"N": "12345"}, "b": {"B": b"\x00\x01\x02"}}
    assert item_size(item) == 8 + 5 + 4


def test_nested_values_carry_their_overhead() -> None:
    # A list: 3 bytes + 1 per element; a map adds each key's length too.
    assert value_size({"L": [{"S": "ab"}, {"BOOL": True}]}) == 3 + (1 + 2) + (1 + 1)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1


def test_units_round_up_per_item() -> None:
    assert capacity.write_units(1024) == 1.0
    assert capacity.write_units(1025) == 2.0
    assert capacity.read_units(4096, consistent=True) == 1.0
    assert capacity.read_units(4097, consistent=True) == 2.0
    assert capacity.read_units(10, consistent=False) == 0.5
    assert capacity.read_units(0, consistent=True) == 1.0  # a miss is still a read


def test_generated_months_hold_the_same_number_of_posts() -> None:
    months = Counter(
        (posts.post_date(i).year, posts.post_date(i).month)
        for i in range(10 * posts.POSTS_PER_MONTH)
    )
    assert len(months) == 10
    assert set(months.values()) == {posts.POSTS_PER_MONTH}


def test_dates_run_backwards_from_the_newest_post() -> None:
    dates = [posts.post_date(i) for i in range(3 * posts.POSTS_PER_MONTH)]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == posts.NEWEST
