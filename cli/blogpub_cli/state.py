"""The running local stack's state file, and asking its control endpoint whether it is idle.

Light on purpose: ``blogpub local wait`` imports only this module.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_ENV = "BLOGPUB_STATE"
DEFAULT_STATE_FILE = Path(".blogpub") / "local.json"
IDLE_PATH = "/_blogpub/idle"


class StackNotRunningError(Exception):
    """No local stack answers at the address the state file names."""


def state_file_path(explicit: str | Path | None = None) -> Path:
    """--state, else $BLOGPUB_STATE, else .blogpub/local.json in the working directory."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get(STATE_ENV) or DEFAULT_STATE_FILE)


@dataclass(frozen=True)
class StackInfo:
    """Where the running stack's pieces are; printed as the ready line and kept on disk."""

    endpoint: str
    site_url: str
    source_bucket: str
    site_bucket: str
    table: str
    distribution_id: str
    region: str
    control_url: str
    stack_name: str = "blogpub-local"
    posts_prefix: str = "_posts/"
    state_file: str = ""
    pid: int = 0
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> function name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attributes: dict[str, Any] = field(default_factory=dict)  # "Logical.Attr" -> value

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    def ready_line(self) -> str:
        """The one line `local up` prints: the addresses, without every resource's name."""
        summary = {k: v for k, v in asdict(self).items() if k not in ("refs", "attributes")}
        return json.dumps(summary, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> StackInfo:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


def write_state(info: StackInfo, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(info.to_json() + "\n", encoding="utf-8")
    temporary.replace(path)


def read_state(path: Path) -> StackInfo:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise StackNotRunningError(
            f"no local stack state at {path}: start one with `blogpub local up`"
        ) from error
    return StackInfo.from_mapping(data)


def query_idle(control_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The control endpoint's answer: {"idle": bool, ...details}."""
    try:
        with urllib.request.urlopen(control_url + IDLE_PATH, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        raise StackNotRunningError(
            f"local stack at {control_url} does not answer: {error}"
        ) from error


def wait_until_idle(control_url: str, timeout: float, interval: float = 0.1) -> bool:
    """True once the stack reports idle twice in a row; False when ``timeout`` passes first."""
    deadline = time.monotonic() + timeout
    consecutive = 0
    while True:
        consecutive = consecutive + 1 if query_idle(control_url).get("idle") else 0
        if consecutive >= 2:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
