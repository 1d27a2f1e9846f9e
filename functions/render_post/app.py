"""RenderPostFunction: S3 object events -> post page + table records."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise NotImplementedError("render_post: being written")
