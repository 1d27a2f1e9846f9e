"""The bench's cost model (bench/cost.py): request counts times the one price table."""

from __future__ import annotations

import json

import pytest

from bench import cost
from tests.conftest import REPO


def test_s3_calls_are_split_into_write_read_and_free_classes() -> None:
    calls = {"s3.PutObject": 3, "s3.CopyObject": 1, "s3.HeadObject": 5, "s3.GetObject": 2}
    calls |= {"s3.DeleteObject": 4, "dynamodb.Query": 9}
    requests = cost.Requests.from_calls(calls, 10.0, 4.0, 2, 0.5)
    assert (requests.s3_writes, requests.s3_reads) == (4, 7)


def test_dollars_follow_the_price_table_and_the_free_paths() -> None:
    requests = cost.Requests(
        s3_writes=20,
        s3_reads=40,
        read_units=100,
        write_units=40,
        invalidation_paths=2,
        lambda_seconds=1.0,
    )
    spent = cost.dollars(requests, 1000, free_tier=False)
    assert spent["cloudfront"] == pytest.approx(2000 * 0.005)
    assert spent["s3"] == pytest.approx(1000 * (20 * 0.005 + 40 * 0.0004) / 1000)
    assert spent["dynamodb"] == pytest.approx(1000 * (40 * 0.625 + 100 * 0.125) / 1e6)
    assert spent["lambda"] == pytest.approx(1000 * (2 * 0.2 / 1e6 + 1.0 * 0.0000133334), rel=1e-4)
    assert spent["total"] == pytest.approx(
        sum(v for k, v in spent.items() if k != "total"), rel=1e-4
    )
    free = cost.dollars(requests, 1000, free_tier=True)
    assert free["cloudfront"] == pytest.approx(1000 * 0.005)  # the first 1,000 paths are free
    assert cost.dollars(requests, 400, free_tier=True)["cloudfront"] == 0


def test_every_price_names_its_source_and_says_whether_it_was_confirmed() -> None:
    for entry in cost.PRICES.values():
        assert entry["source"].startswith("https://aws.amazon.com/")
        assert entry["confirmed"].startswith(("yes", "no"))


def test_the_committed_bill_meets_issue_15() -> None:
    bill = json.loads((REPO / "bench" / "results.json").read_text(encoding="utf-8"))["bill"]
    for site in bill["sites"].values():
        after = site["after"]
        assert after["new_post"]["requests"]["invalidation_paths"] == 0
        assert after["edit"]["requests"]["invalidation_paths"] <= 2
        before = site["before_new_post"]["dollars_per_1000"]["total"]
        assert after["new_post"]["dollars_per_1000"]["total"] <= 0.01 * before
