"""Powertools' structured log lines captured in tests, from any thread."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from blogpub.observability import logger


@dataclass
class LogCapture(logging.Handler):
    """Powertools' log lines, formatted by its own formatter, as JSON objects."""

    lines: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def __hash__(self) -> int:
        return id(self)


@pytest.fixture
def structured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    capture.setFormatter(logger.registered_formatter)
    logger.addHandler(capture)
    yield capture
    logger.removeHandler(capture)  # type: ignore[attr-defined]  # delegated to logging
