"""RollbackFunction's logic: validate an admin request, run it once, keep an audit trail.

Payloads (``events/rollback-*.json`` show each one):

``{"action": "history", "key": "_posts/x.md"}``
``{"action": "rollback", "key": "_posts/x.md", "version_id": "..."}`` or ``"steps": N``
``{"action": "rollback-site", "at": "2026-11-28T10:00:00Z"}``
``{"action": "rebuild"}``, ``{"action": "verify"}``

Rollbacks also take ``"dry_run": true``; every action takes ``"request_id"``,
``"requested_by"`` and ``"reason"``. A request that changes the source or starts a rebuild
runs once per ``request_id`` (Powertools idempotency on the table): a retried invocation
returns the first answer. Without a ``request_id`` the Lambda request id stands in, which
Lambda keeps across its own retries of an asynchronous invocation.

Who asked: through the IAM-authenticated function URL (``AuthType: AWS_IAM``) the payload
is the request body and AWS names the signing caller in the request context; the audit
record keeps that ARN as ``requested_by`` (``requested_by_source: "iam"``) and the body's
``requested_by`` as ``requested_by_declared``. A direct Invoke carries no caller identity to
the function, so there ``requested_by`` is what the caller wrote, marked ``"declared"``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, cast

from blogpub import dates, keys
from blogpub.errors import AdminRequestError
from blogpub.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from blogpub.rollback import Rollbacks, SourceChange
    from blogpub.service import Runtime
    from blogpub.verify import Verifier

Action = Literal["history", "rollback", "rollback-site", "rebuild", "verify"]
ACTIONS: tuple[Action, ...] = ("history", "rollback", "rollback-site", "rebuild", "verify")
COMMON_FIELDS = frozenset({"action", "request_id", "requested_by", "reason"})
ACTION_FIELDS: Mapping[Action, frozenset[str]] = {
    "history": frozenset({"key"}),
    "rollback": frozenset({"key", "version_id", "steps", "dry_run"}),
    "rollback-site": frozenset({"at", "dry_run"}),
    "rebuild": frozenset(),
    "verify": frozenset(),
}
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_TEXT = 500
IDEMPOTENCY_SECONDS = 24 * 3600  # a retry within a day returns the first answer
MAX_LISTED_CHANGES = 1000  # keeps the stored idempotent answer far below an item's 400 KB


@dataclass(frozen=True)
class AdminRequest:
    """A validated RollbackFunction payload."""

    action: Action
    request_id: str
    key: str | None = None
    version_id: str | None = None
    steps: int | None = None
    at: datetime | None = None
    dry_run: bool = False
    requested_by: str = ""
    reason: str = ""
    caller_arn: str | None = None  # the IAM caller AWS authenticated (function URL), if any

    @property
    def writes(self) -> bool:
        """It changes the source bucket or starts work: run it once per request id."""
        return self.action in ("rollback", "rollback-site", "rebuild") and not self.dry_run

    @property
    def audited(self) -> bool:
        return self.action in ("rollback", "rollback-site", "rebuild")

    def as_payload(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "request_id": self.request_id,
            "key": self.key,
            "version_id": self.version_id,
            "steps": self.steps,
            "at": self.at.isoformat() if self.at else None,
            "dry_run": self.dry_run,
            "requested_by": self.caller_arn or self.requested_by,
            "requested_by_source": "iam" if self.caller_arn else "declared",
            "requested_by_declared": self.requested_by if self.caller_arn else None,
            "reason": self.reason,
        }


def _text(payload: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise AdminRequestError(f'"{name}" is required for action {payload["action"]!r}')
        return None
    if not isinstance(value, str) or not value.strip():
        raise AdminRequestError(f'"{name}" must be a non-empty string, got {value!r}')
    if len(value) > MAX_TEXT:
        raise AdminRequestError(f'"{name}" is longer than {MAX_TEXT} characters')
    return value


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise AdminRequestError(
            f'"at" = {value!r} is not an ISO 8601 time such as 2026-11-28T10:00:00Z'
        ) from error
    if moment.tzinfo is None:
        raise AdminRequestError(f'"at" = {value!r} needs a timezone, e.g. 2026-11-28T10:00:00Z')
    return moment.astimezone(UTC)


def _steps(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise AdminRequestError(
            f'"steps" must be a whole number of versions, 1 or more; got {value!r}'
        )
    return value


def parse_request(payload: Any, default_request_id: str) -> AdminRequest:
    """The request a payload asks for; AdminRequestError says what to fix."""
    if not isinstance(payload, Mapping):
        raise AdminRequestError(f"the payload must be a JSON object, got {type(payload).__name__}")
    action = payload.get("action")
    if action not in ACTIONS:
        raise AdminRequestError(f'"action" must be one of {", ".join(ACTIONS)}; got {action!r}')
    action = cast("Action", action)
    unknown = set(payload) - COMMON_FIELDS - ACTION_FIELDS[action]
    if unknown:
        allowed = ", ".join(sorted(COMMON_FIELDS | ACTION_FIELDS[action]))
        raise AdminRequestError(
            f"unknown field(s) {', '.join(sorted(unknown))} for action {action!r}"
            f" (allowed: {allowed})"
        )
    request_id = _text(payload, "request_id") or default_request_id
    if not REQUEST_ID.fullmatch(request_id):
        raise AdminRequestError(
            f'"request_id" = {request_id!r}: use 1-128 letters, digits and . _ : -'
        )
    dry_run = payload.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise AdminRequestError(f'"dry_run" must be true or false, got {dry_run!r}')
    version_id, steps, at = None, None, None
    if action == "rollback":
        version_id = _text(payload, "version_id")
        if (version_id is None) == (payload.get("steps") is None):
            raise AdminRequestError('a rollback names exactly one of "version_id" and "steps"')
        steps = _steps(payload["steps"]) if version_id is None else None
    if action == "rollback-site":
        at = _moment(_text(payload, "at", required=True) or "")
    return AdminRequest(
        action=action,
        request_id=request_id,
        key=_text(payload, "key", required=action in ("history", "rollback")),
        version_id=version_id,
        steps=steps,
        at=at,
        dry_run=dry_run,
        requested_by=_text(payload, "requested_by") or "",
        reason=_text(payload, "reason") or "",
    )


def refusal(error: AdminRequestError, request: AdminRequest | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "action": request.action if request else None,
        "request_id": request.request_id if request else None,
        "error": {"code": error.code, "type": type(error).__name__, "message": str(error)},
    }


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Admin:
    runtime: Runtime
    clock: Callable[[], datetime] = field(default=_now)

    def rollbacks(self) -> Rollbacks:
        from blogpub.rollback import Rollbacks

        rt = self.runtime
        return Rollbacks(rt.s3, rt.table(), rt.deployment, rt.settings(), clock=self.clock)

    def execute(self, request: AdminRequest) -> dict[str, Any]:
        """Run the request; a request that rolls back or rebuilds is also audited."""
        answer = {"ok": True, "action": request.action, "request_id": request.request_id}
        answer |= self._run(request)
        if request.audited:
            self.audit(request, "planned" if request.dry_run else "done", answer)
        return answer

    def _run(self, request: AdminRequest) -> dict[str, Any]:
        if request.action == "history":
            assert request.key is not None
            return self.rollbacks().history(request.key)
        if request.action == "verify":
            return self._verifier().report()
        if request.action == "rebuild":
            from blogpub.rebuild import start_rebuild

            rt = self.runtime
            return start_rebuild(rt.sqs, rt.deployment.rebuild_queue_url, request.request_id)
        rollbacks = self.rollbacks()
        if request.action == "rollback":
            assert request.key is not None
            plan = rollbacks.plan_post(
                request.key, version_id=request.version_id, steps=request.steps
            )
        else:
            assert request.at is not None
            plan = rollbacks.plan_site(request.at)
        return self._carry_out(rollbacks, plan, request)

    def _carry_out(
        self, rollbacks: Rollbacks, plan: list[SourceChange], request: AdminRequest
    ) -> dict[str, Any]:
        from blogpub.rollback import RequestStamp

        if request.dry_run:
            changes = [change.as_dict() for change in plan]
        else:
            changes = rollbacks.apply(plan, RequestStamp(request.request_id, request.requested_by))
        return {
            "dry_run": request.dry_run,
            "changed": len(changes),
            "changes": changes[:MAX_LISTED_CHANGES],
            "truncated": len(changes) > MAX_LISTED_CHANGES,
            "urls": sorted({url for change in plan for url in change.urls})[:MAX_LISTED_CHANGES],
        }

    def _verifier(self) -> Verifier:
        from blogpub.verify import Verifier

        rt = self.runtime
        settings = rt.settings()
        return Verifier(rt.s3, rt.table(), rt.site(), rt.deployment, rt.index_renderer(settings))

    def execute_once(self, request: AdminRequest, context: LambdaContext) -> dict[str, Any]:
        """``execute``, once per request id: a retry gets the stored first answer."""
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyValidationError,
        )

        persistence = DynamoDBPersistenceLayer(
            table_name=self.runtime.deployment.table_name,
            key_attr=keys.PK,
            sort_key_attr=keys.SK,
            static_pk_value=keys.IDEMPOTENCY_PK,
            expiry_attr=keys.TTL_ATTRIBUTE,
            boto3_client=self.runtime.dynamodb,
        )
        config = IdempotencyConfig(
            event_key_jmespath="request_id",
            payload_validation_jmespath="[action, key, version_id, steps, at, dry_run]",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )
        config.register_lambda_context(context)

        @idempotent_function(  # type: ignore[untyped-decorator]
            data_keyword_argument="payload", persistence_store=persistence, config=config
        )
        def run_once(payload: dict[str, Any]) -> dict[str, Any]:
            return self.execute(request)

        try:
            answer: dict[str, Any] = run_once(payload=request.as_payload())
        except IdempotencyValidationError as error:
            raise AdminRequestError(
                f"request_id {request.request_id!r} was already used for a different request;"
                " send a new request_id"
            ) from error
        return answer

    def audit(self, request: AdminRequest, outcome: str, answer: Mapping[str, Any]) -> None:
        """One audit record per request carried out, planned or refused."""
        at = dates.record_time(self.clock())
        changes = answer.get("changes") or []
        fields = request.as_payload() | {
            "outcome": outcome,
            "changed": answer.get("changed"),
            "changed_keys": [c["key"] for c in changes[:100]] or None,
            "error": (answer.get("error") or {}).get("message"),
            "error_code": (answer.get("error") or {}).get("code"),
            "rebuild_messages": answer.get("messages"),
        }
        self.runtime.table().put_audit(at, request.request_id, fields)


def function_url_request(event: Any) -> tuple[Any, str | None] | None:
    """(payload, caller ARN) of a function URL invocation; None for a direct Invoke."""
    if not isinstance(event, Mapping) or "requestContext" not in event or "rawPath" not in event:
        return None
    context = event.get("requestContext") or {}
    iam = (context.get("authorizer") or {}).get("iam") or {}
    caller = iam.get("userArn") if isinstance(iam.get("userArn"), str) else None
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    try:
        return json.loads(body), caller
    except ValueError:
        return body, caller


def admin_event(event: Any, context: LambdaContext) -> dict[str, Any]:
    """RollbackFunction: one admin request in, its answer (or a refusal saying why) out.

    From the function URL the answer is wrapped as an HTTP response (400 for a refusal).
    """
    through_url = function_url_request(event)
    if through_url is None:
        return _admin_answer(event, None, context)
    payload, caller = through_url
    answer = _admin_answer(payload, caller, context)
    return {
        "statusCode": 400 if answer.get("ok") is False else 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer, default=str),
    }


def _admin_answer(payload: Any, caller: str | None, context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    from blogpub.service import runtime

    try:
        request = parse_request(payload, context.aws_request_id)
        if caller:
            request = replace(request, caller_arn=caller)
    except AdminRequestError as error:
        metrics.add_metric(name="AdminRefused", unit=MetricUnit.Count, value=1)
        logger.warning("admin request refused", error=str(error))
        return refusal(error)
    logger.set_correlation_id(request.request_id)
    admin = Admin(runtime())
    try:
        answer = admin.execute_once(request, context) if request.writes else admin.execute(request)
    except AdminRequestError as error:
        answer = refusal(error, request)
        metrics.add_metric(name="AdminRefused", unit=MetricUnit.Count, value=1)
        if request.audited:
            admin.audit(request, "refused", answer)
        logger.warning("admin request refused", **request.as_payload(), error=str(error))
        return answer
    metrics.add_metric(name="AdminRequests", unit=MetricUnit.Count, value=1)
    logger.info("admin request done", **request.as_payload(), changed=answer.get("changed"))
    return answer
