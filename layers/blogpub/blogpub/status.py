"""Recent publishes and failures, as an admin lists them (`blogpub status`).

RenderPostFunction writes one ACTIVITY item per processed upload and one FAIL item per
rejected one (keys.py); both partitions sort by time, so "the newest N" is one query each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from blogpub.table import EventRecord, PostTable


@dataclass(frozen=True)
class StatusLine:
    """One processed upload: when, which file and version, what became of it."""

    at: str  # ISO time the pipeline processed it
    source_key: str
    version_id: str | None
    outcome: str  # published, unpublished, deleted, rejected
    url: str | None = None
    reason: str | None = None  # rejections: the PostError reason slug
    error: str | None = None  # rejections: the message naming the file and the problem
    warnings: tuple[str, ...] = ()  # published: tags or formulas shown as text, with lines

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_line(record: EventRecord, *, outcome: str | None = None) -> StatusLine:
    """An activity or failure record as a status line (failures are rejections)."""
    return StatusLine(
        at=record.at,
        source_key=record.source_key,
        version_id=record.version_id,
        outcome=outcome or record.outcome or "",
        url=record.url,
        reason=record.reason,
        error=record.error,
        warnings=record.warnings,
    )


def recent_activity(table: PostTable, limit: int) -> list[StatusLine]:
    """The newest ``limit`` processed uploads, newest first."""
    return [status_line(record) for record in table.recent_activity(limit)]


def recent_failures(table: PostTable, limit: int) -> list[StatusLine]:
    """The newest ``limit`` rejected uploads with their reasons, newest first."""
    return [status_line(record, outcome="rejected") for record in table.recent_failures(limit)]


def failure_counts(lines: Iterable[StatusLine]) -> dict[str, int]:
    """How many rejections of each reason, for a summary line."""
    counts: dict[str, int] = {}
    for line in lines:
        reason = line.reason or "unknown"
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


def format_status(activity: Sequence[StatusLine], failures: Sequence[StatusLine]) -> str:
    """The text `blogpub status` prints: recent activity, then recent failures."""
    lines = [f"Recent activity ({len(activity)}):"]
    for line in activity:
        where = line.url or ""
        lines.append(f"  {line.at}  {line.outcome:<11} {line.source_key}  {where}".rstrip())
        lines += [f"      warning: {warning}" for warning in line.warnings]
    if not activity:
        lines.append("  (none)")
    lines.append(f"Recent failures ({len(failures)}):")
    for line in failures:
        lines.append(f"  {line.at}  {line.reason or 'unknown':<17} {line.source_key}")
        lines.append(f"      version {line.version_id or 'null'}: {line.error or ''}")
    if not failures:
        lines.append("  (none)")
    return "\n".join(lines)
