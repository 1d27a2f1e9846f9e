"""BuildIndexesFunction: table stream -> index pages + one invalidation per batch."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise NotImplementedError("build_indexes: being written")
