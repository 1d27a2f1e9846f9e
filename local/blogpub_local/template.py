"""What the local stack needs from template.yaml: intrinsics, functions and their event sources.

Pure: values in, values out. ``IntrinsicResolver`` evaluates Ref/GetAtt/Sub/If/Join/... against
physical names the caller supplies; ``function_specs`` merges SAM ``Globals`` into each
``AWS::Serverless::Function`` the way SAM does (maps merged, lists appended, scalars replaced).
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from blogpub_local.event_filter import FilterCriteria, FilterCriteriaError, parse_filter_criteria

ACCOUNT_ID = "123456789012"
STACK_NAME = "blogpub-local"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
BUCKET = "AWS::S3::Bucket"
# Lambda's defaults when the template says nothing.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_ASYNC_RETRIES = 2


class TemplateError(Exception):
    """The template cannot be run locally; the message names the resource and property."""


class UnresolvedReferenceError(TemplateError):
    """A Ref/GetAtt names something that has no physical value yet."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"template: nothing to resolve {name!r} to")


class _NoValue:
    """AWS::NoValue: the property it is assigned to disappears."""


NO_VALUE = _NoValue()


@dataclass
class IntrinsicResolver:
    """Evaluates intrinsic functions with the physical values of a (local) deployment."""

    region: str = "us-east-1"
    stack_name: str = STACK_NAME
    account_id: str = ACCOUNT_ID
    parameters: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)  # (id, attr) -> value
    condition_definitions: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)

    placeholders: set[str] = field(default_factory=set)  # ids whose every attribute is made up

    @property
    def stack_id(self) -> str:
        stack_uuid = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.account_id}/{self.stack_name}")
        return (
            f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
            f"{self.stack_name}/{stack_uuid}"
        )

    def pseudo_parameter(self, name: str) -> Any:
        pseudo: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }
        if name in pseudo:
            return pseudo[name]
        raise UnresolvedReferenceError(name)

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo_parameter(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnresolvedReferenceError(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self.attributes:
            return self.attributes[(logical_id, attribute)]
        if logical_id in self.placeholders:
            return f"{self.refs[logical_id]}/{attribute}"
        raise UnresolvedReferenceError(f"{logical_id}.{attribute}")

    def condition(self, name: str) -> bool:
        if name not in self.condition_definitions:
            raise TemplateError(f"template: unknown condition {name!r}")
        return bool(self.resolve(self.condition_definitions[name]))

    def sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is an escaped "${Literal}"
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic evaluated; AWS::NoValue entries removed."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            function = self._functions().get(name)
            if function is not None:
                return function(argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _functions(self) -> dict[str, Any]:
        return {
            "Ref": lambda arg: self.ref(self.resolve(arg)),
            "Fn::GetAtt": self._get_att_function,
            "Fn::Sub": self.sub,
            "Fn::If": self._if,
            "Fn::Equals": lambda arg: self.resolve(arg[0]) == self.resolve(arg[1]),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Fn::And": lambda arg: all(self.resolve(item) for item in arg),
            "Fn::Or": lambda arg: any(self.resolve(item) for item in arg),
            "Condition": self.condition,
            "Fn::Join": lambda arg: str(arg[0]).join(str(x) for x in self.resolve(arg[1])),
            "Fn::Select": lambda arg: self.resolve(arg[1])[int(self.resolve(arg[0]))],
            "Fn::Split": lambda arg: str(self.resolve(arg[1])).split(arg[0]),
            "Fn::FindInMap": self._find_in_map,
            "Fn::GetAZs": lambda arg: [f"{self.region}a", f"{self.region}b"],
            "Fn::Base64": lambda arg: self._base64(self.resolve(arg)),
            "Fn::Length": lambda arg: len(self.resolve(arg)),
        }

    def _get_att_function(self, argument: Any) -> Any:
        logical_id, attribute = self.resolve(argument)
        return self.get_att(str(logical_id), str(attribute))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top, second = (self.resolve(part) for part in argument)
        return self.mappings[map_name][top][second]

    @staticmethod
    def _base64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")


def resolver_for(
    template: Mapping[str, Any],
    region: str,
    stack_name: str,
    overrides: Mapping[str, str] | None = None,
) -> IntrinsicResolver:
    """A resolver with the template's parameter defaults (or ``overrides``), conditions and
    mappings."""
    declared = {
        name: spec
        for name, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict)
    }
    parameters = {name: spec.get("Default", "") for name, spec in declared.items()}
    for name, value in (overrides or {}).items():  # CloudFormation's own two checks
        if name not in declared:
            raise TemplateError(f"template: parameter {name!r} is not declared in the template")
        allowed = declared[name].get("AllowedValues")
        if allowed is not None and value not in [str(choice) for choice in allowed]:
            raise TemplateError(
                f"template: parameter {name!r} must be one of {allowed}, not {value!r}"
            )
        parameters[name] = value
    return IntrinsicResolver(
        region=region,
        stack_name=stack_name,
        parameters=parameters,
        condition_definitions=template.get("Conditions") or {},
        mappings=template.get("Mappings") or {},
    )


def merge_globals(global_properties: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge recursively, lists are appended, scalars are replaced."""
    merged: dict[str, Any] = dict(global_properties)
    for key, value in own.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return (len(value) == 1 and next(iter(value)) in ("Ref", "Condition")) or any(
        key.startswith("Fn::") for key in value
    )


def resource_is_active(resource: Mapping[str, Any], resolver: IntrinsicResolver) -> bool:
    condition = resource.get("Condition")
    return condition is None or resolver.condition(str(condition))


@dataclass(frozen=True)
class S3EventSource:
    bucket: str  # physical name
    events: tuple[str, ...]  # "s3:ObjectCreated:*", "s3:ObjectRemoved:*"
    prefix: str = ""
    suffix: str = ""

    def accepts(self, event_name: str, key: str) -> bool:
        """Whether an S3 event ("ObjectCreated:Put") on ``key`` matches this subscription."""
        if not (key.startswith(self.prefix) and key.endswith(self.suffix)):
            return False
        full_name = f"s3:{event_name}"
        return any(
            full_name == pattern or (pattern.endswith("*") and full_name.startswith(pattern[:-1]))
            for pattern in self.events
        )


@dataclass(frozen=True)
class StreamEventSource:
    stream_arn: str
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1  # -1: until the record expires (AWS default)
    report_batch_item_failures: bool = False
    on_failure_arn: str | None = None
    starting_position: str = "TRIM_HORIZON"
    filter_criteria: FilterCriteria = field(default_factory=FilterCriteria)


@dataclass(frozen=True)
class SqsEventSource:
    queue_arn: str
    batch_size: int = 10
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False


EventSource = S3EventSource | StreamEventSource | SqsEventSource


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function, Globals merged and references resolved."""

    logical_id: str
    function_name: str
    handler: str  # "app.lambda_handler"
    code_dir: Path
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    layers: tuple[str, ...]
    event_sources: tuple[EventSource, ...]
    async_retry_attempts: int = DEFAULT_ASYNC_RETRIES
    async_on_failure_arn: str | None = None
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions, when set

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def serverless_functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of every AWS::Serverless::Function, Globals merged."""
    global_function = ((template.get("Globals") or {}).get("Function")) or {}
    return {
        logical_id: merge_globals(global_function, resource.get("Properties") or {})
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") == SERVERLESS_FUNCTION
    }


def _s3_filter(properties: Mapping[str, Any]) -> tuple[str, str]:
    rules = ((properties.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    prefix = suffix = ""
    for rule in rules:
        name = str(rule.get("Name", "")).lower()
        if name == "prefix":
            prefix = str(rule.get("Value", ""))
        elif name == "suffix":
            suffix = str(rule.get("Value", ""))
    return prefix, suffix


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return (str(value),)


def _on_failure(destination_config: Any) -> str | None:
    if not isinstance(destination_config, dict):
        return None
    on_failure = destination_config.get("OnFailure") or {}
    destination = on_failure.get("Destination")
    return str(destination) if destination else None


def event_source(
    properties_type: str, properties: Mapping[str, Any], where: str = "template"
) -> EventSource | None:
    """One SAM event (already resolved) as the local stack delivers it; None when unsupported.
    ``where`` names it in errors."""
    if properties_type == "S3":
        prefix, suffix = _s3_filter(properties)
        return S3EventSource(
            bucket=str(properties["Bucket"]),
            events=_as_tuple(properties.get("Events")),
            prefix=prefix,
            suffix=suffix,
        )
    if properties_type == "DynamoDB":
        try:
            filter_criteria = parse_filter_criteria(properties.get("FilterCriteria"))
        except FilterCriteriaError as error:
            raise TemplateError(f"{where}: FilterCriteria: {error}") from error
        return StreamEventSource(
            stream_arn=str(properties["Stream"]),
            batch_size=int(properties.get("BatchSize", 100)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            report_batch_item_failures="ReportBatchItemFailures"
            in _as_tuple(properties.get("FunctionResponseTypes")),
            on_failure_arn=_on_failure(properties.get("DestinationConfig")),
            starting_position=str(properties.get("StartingPosition", "TRIM_HORIZON")),
            filter_criteria=filter_criteria,
        )
    if properties_type == "SQS":
        return SqsEventSource(
            queue_arn=str(properties["Queue"]),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in _as_tuple(properties.get("FunctionResponseTypes")),
        )
    return None


def _refers_to(value: Any, logical_id: str) -> bool:
    """Whether a FunctionName/Function value is a Ref or GetAtt of ``logical_id``."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((name, argument),) = value.items()
    if name == "Ref":
        return bool(argument == logical_id)
    if name == "Fn::GetAtt":
        target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        return bool(target == logical_id)
    return False


def _source_type(template: Mapping[str, Any], event_source_arn: Any) -> str:
    """The resource type an EventSourceArn refers to (GetAtt), or "" for a literal ARN."""
    if isinstance(event_source_arn, dict) and "Fn::GetAtt" in event_source_arn:
        argument = event_source_arn["Fn::GetAtt"]
        target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        return str(((template.get("Resources") or {}).get(target) or {}).get("Type", ""))
    return ""


def mapping_source(logical_id: str, properties: Mapping[str, Any], source_type: str) -> EventSource:
    """An AWS::Lambda::EventSourceMapping (already resolved) as the local stack polls it;
    ``source_type`` is the type of the resource its EventSourceArn names, when it names one."""
    arn = str(properties.get("EventSourceArn", ""))
    stream = source_type == "AWS::DynamoDB::Table" or ":dynamodb:" in arn
    if properties.get("FilterCriteria") and not stream:
        raise TemplateError(
            f"template: {logical_id}: FilterCriteria is run locally on streams only"
        )
    if source_type == "AWS::SQS::Queue" or arn.startswith("arn:aws:sqs:"):
        sqs = event_source("SQS", {**properties, "Queue": arn})
        assert sqs is not None
        return sqs
    if stream:
        on_failure = (properties.get("DestinationConfig") or {}).get("OnFailure") or {}
        source = event_source("DynamoDB", {**properties, "Stream": arn}, f"template: {logical_id}")
        assert isinstance(source, StreamEventSource)
        destination = on_failure.get("Destination")
        return replace(source, on_failure_arn=str(destination) if destination else None)
    raise TemplateError(f"template: {logical_id}: no local poller for {arn!r}")


def declared_event_sources(
    template: Mapping[str, Any], function_id: str, resolver: IntrinsicResolver
) -> list[EventSource]:
    """The mappings and bucket notifications of ``template`` that invoke ``function_id``."""
    sources: list[EventSource] = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not resource_is_active(resource, resolver):
            continue
        properties = resource.get("Properties") or {}
        if resource.get("Type") == EVENT_SOURCE_MAPPING:
            if not _refers_to(properties.get("FunctionName"), function_id):
                continue
            resolved = resolver.resolve(dict(properties))
            if resolved.get("Enabled", True) in (False, "false"):
                continue
            source_type = _source_type(template, properties.get("EventSourceArn"))
            sources.append(mapping_source(logical_id, resolved, source_type))
        elif resource.get("Type") == BUCKET:
            notifications = properties.get("NotificationConfiguration") or {}
            for target in notifications.get("LambdaConfigurations") or []:
                if not _refers_to(target.get("Function"), function_id):
                    continue
                resolved = resolver.resolve(dict(target))
                prefix, suffix = _s3_filter(resolved)
                sources.append(
                    S3EventSource(
                        bucket=str(resolver.ref(logical_id)),
                        events=_as_tuple(resolved.get("Event")),
                        prefix=prefix,
                        suffix=suffix,
                    )
                )
    return sources


def function_spec(
    logical_id: str,
    properties: Mapping[str, Any],
    resolver: IntrinsicResolver,
    template_dir: Path,
    template: Mapping[str, Any] | None = None,
) -> FunctionSpec:
    """A function's runnable description; ``properties`` have Globals merged already.

    With ``template``, the mappings and bucket notifications declared apart from the function
    are among its event sources too."""
    resolved = resolver.resolve(dict(properties))
    handler = resolved.get("Handler")
    code_uri = resolved.get("CodeUri")
    if not handler or "." not in str(handler) or not isinstance(code_uri, str):
        raise TemplateError(
            f"template: {logical_id}: needs Handler 'module.function' and a local CodeUri"
        )
    variables = ((resolved.get("Environment") or {}).get("Variables")) or {}
    sources = []
    for event in (resolved.get("Events") or {}).values():
        source = event_source(str(event.get("Type")), event.get("Properties") or {})
        if source is not None:
            sources.append(source)
    if template is not None:
        sources.extend(declared_event_sources(template, logical_id, resolver))
    invoke_config = resolved.get("EventInvokeConfig") or {}
    return FunctionSpec(
        logical_id=logical_id,
        function_name=str(resolved.get("FunctionName") or resolver.refs.get(logical_id, "")),
        handler=str(handler),
        code_dir=(template_dir / code_uri).resolve(),
        runtime=str(resolved.get("Runtime", "python3.13")),
        timeout_seconds=int(resolved.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
        memory_mb=int(resolved.get("MemorySize", DEFAULT_MEMORY_MB)),
        environment={str(name): _env_text(value) for name, value in variables.items()},
        layers=_as_tuple(resolved.get("Layers")),
        event_sources=tuple(sources),
        async_retry_attempts=int(invoke_config.get("MaximumRetryAttempts", DEFAULT_ASYNC_RETRIES)),
        async_on_failure_arn=_on_failure(invoke_config.get("DestinationConfig")),
        reserved_concurrency=_optional_int(resolved.get("ReservedConcurrentExecutions")),
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _env_text(value: Any) -> str:
    """Lambda environment values are strings; CloudFormation writes booleans in lower case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
