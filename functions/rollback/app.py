"""RollbackFunction: admin history, rollback, rebuild and verify."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise NotImplementedError("rollback: being written")
