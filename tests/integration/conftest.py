from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from blogpub_local import moto_fidelity
from moto import mock_aws

from tests.integration.harness import Pipeline

moto_fidelity.install()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and no endpoint override; the environment is restored afterwards."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def pipeline(aws_env: None) -> Iterator[Pipeline]:
    """A fresh in-process AWS with the pipeline's resources."""
    with mock_aws():
        yield Pipeline()
