"""The template reader: short tags, intrinsics, Globals and event sources of template.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub_local.cfn_yaml import load_template, loads_template
from blogpub_local.event_filter import parse_filter_criteria
from blogpub_local.resources import placeholder_names
from blogpub_local.template import (
    IntrinsicResolver,
    S3EventSource,
    SqsEventSource,
    StreamEventSource,
    TemplateError,
    UnresolvedReferenceError,
    declared_event_sources,
    function_spec,
    merge_globals,
    resolver_for,
    serverless_functions,
)

REPO = Path(__file__).resolve().parents[2]


def test_short_tags_become_their_long_forms() -> None:
    template = loads_template(
        """
AWSTemplateFormatVersion: 2010-09-09
A: !Ref Bucket
B: !GetAtt Function.FunctionMetadata.FunctionARN
C: !Sub "${Bucket}/x"
D: !If [Cond, !Ref X, !Ref AWS::NoValue]
E: !Select [0, !Split ["-", !Ref AWS::StackName]]
"""
    )
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["A"] == {"Ref": "Bucket"}
    assert template["B"] == {"Fn::GetAtt": ["Function", "FunctionMetadata.FunctionARN"]}
    assert template["C"] == {"Fn::Sub": "${Bucket}/x"}
    assert template["D"] == {"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}
    assert template["E"]["Fn::Select"][1] == {"Fn::Split": ["-", {"Ref": "AWS::StackName"}]}


def test_resolver_evaluates_sub_if_join_and_drops_no_value() -> None:
    resolver = IntrinsicResolver(
        refs={"Bucket": "b-1"},
        attributes={("Bucket", "Arn"): "arn:aws:s3:::b-1"},
        parameters={"Prefix": "_posts/"},
        condition_definitions={"Never": {"Fn::Equals": ["a", "b"]}},
    )
    value = {
        "Sub": {"Fn::Sub": "${Bucket.Arn}/${Prefix}* ${AWS::Region} ${!Literal}"},
        "SubWithVariables": {"Fn::Sub": ["${X}-${Bucket}", {"X": {"Fn::Join": ["+", ["a", "b"]]}}]},
        "Gone": {"Fn::If": ["Never", "yes", {"Ref": "AWS::NoValue"}]},
        "List": [{"Ref": "AWS::NoValue"}, {"Ref": "Bucket"}],
    }
    assert resolver.resolve(value) == {
        "Sub": "arn:aws:s3:::b-1/_posts/* us-east-1 ${Literal}",
        "SubWithVariables": "a+b-b-1",
        "List": ["b-1"],
    }


def test_unknown_reference_is_an_error_naming_it() -> None:
    with pytest.raises(UnresolvedReferenceError, match="Missing"):
        IntrinsicResolver().resolve({"Ref": "Missing"})


def test_globals_merge_like_sam() -> None:
    merged = merge_globals(
        {"Timeout": 30, "Layers": ["L1"], "Environment": {"Variables": {"A": "1", "B": "2"}}},
        {"Timeout": 120, "Layers": ["L2"], "Environment": {"Variables": {"B": "3"}}},
    )
    assert merged == {
        "Timeout": 120,
        "Layers": ["L1", "L2"],
        "Environment": {"Variables": {"A": "1", "B": "3"}},
    }


@pytest.fixture(scope="module")
def template_specs() -> dict[str, object]:
    template = load_template(REPO / "template.yaml")
    resolver = resolver_for(template, "us-east-1", "blogpub-test")
    placeholder_names(template, resolver)
    return {
        logical_id: function_spec(logical_id, properties, resolver, REPO, template)
        for logical_id, properties in serverless_functions(template).items()
    }


def test_every_template_function_points_at_a_handler_file(template_specs: dict) -> None:
    assert set(template_specs) >= {"RenderPostFunction", "BuildIndexesFunction", "RollbackFunction"}
    for spec in template_specs.values():
        assert (spec.code_dir / f"{spec.handler_module}.py").is_file()
        assert spec.environment["TABLE_NAME"]
        assert spec.environment["SOURCE_BUCKET"]


def test_template_event_sources_are_read(template_specs: dict) -> None:
    render = template_specs["RenderPostFunction"]
    s3_sources = [s for s in render.event_sources if isinstance(s, S3EventSource)]
    assert s3_sources and all(s.bucket == render.environment["SOURCE_BUCKET"] for s in s3_sources)
    assert any(s.accepts("ObjectCreated:Put", "_posts/a b.md") for s in s3_sources)
    assert any(s.accepts("ObjectRemoved:DeleteMarkerCreated", "_posts/x.md") for s in s3_sources)
    # The whole source/ folder reaches the function: pages, assets and the site config.
    assert any(s.accepts("ObjectCreated:Put", "images/a.png") for s in s3_sources)
    assert any(s.accepts("ObjectCreated:Put", "_config.yml") for s in s3_sources)
    assert any(isinstance(s, SqsEventSource) for s in render.event_sources)
    assert render.async_on_failure_arn and render.async_on_failure_arn.startswith("arn:aws:sqs:")
    (stream,) = [
        s
        for s in template_specs["BuildIndexesFunction"].event_sources
        if isinstance(s, StreamEventSource)
    ]
    assert stream.report_batch_item_failures and stream.bisect_on_error
    assert stream.on_failure_arn and stream.batch_size >= 1


def test_mappings_and_notifications_declared_apart_are_read_with_every_property() -> None:
    template = load_template(REPO / "template.yaml")
    resolver = resolver_for(template, "us-east-1", "blogpub-test")
    placeholder_names(template, resolver)
    resources = template["Resources"]
    declared = resources["BuildIndexesTableStream"]["Properties"]
    functions = serverless_functions(template)
    # Issue 16: no SAM Events, whose policies grant "*": the sources are declared apart.
    assert not any(properties.get("Events") for properties in functions.values())

    (stream,) = declared_event_sources(template, "BuildIndexesFunction", resolver)
    render_sources = declared_event_sources(template, "RenderPostFunction", resolver)
    (sqs,) = [s for s in render_sources if isinstance(s, SqsEventSource)]
    s3_sources = [s for s in render_sources if isinstance(s, S3EventSource)]
    assert len(render_sources) == 1 + len(s3_sources)

    assert stream == StreamEventSource(
        stream_arn=resolver.get_att("Table", "StreamArn"),
        batch_size=declared["BatchSize"],
        batching_window_seconds=declared["MaximumBatchingWindowInSeconds"],
        bisect_on_error=True,
        maximum_retry_attempts=declared["MaximumRetryAttempts"],
        report_batch_item_failures=True,
        on_failure_arn=resolver.get_att("IndexDeadLetterQueue", "Arn"),
        starting_position="TRIM_HORIZON",
        filter_criteria=parse_filter_criteria(declared["FilterCriteria"]),
    )
    assert stream.filter_criteria.patterns  # the page states' filter is read, not dropped
    assert sqs == SqsEventSource(
        queue_arn=resolver.get_att("RebuildQueue", "Arn"),
        batch_size=resources["RenderPostRebuildRequests"]["Properties"]["BatchSize"],
        report_batch_item_failures=True,
    )
    source_bucket = resolver.ref("SourceBucket")
    # Every key of Hexo's source/ folder: one unfiltered notification per event type.
    assert {(s.bucket, s.events, s.prefix, s.suffix) for s in s3_sources} == {
        (source_bucket, (event,), "", "") for event in ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
    }
    assert not declared_event_sources(template, "RollbackFunction", resolver)


def test_a_disabled_mapping_is_not_run_and_a_filtered_one_is_refused() -> None:
    mapping = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "FunctionName": {"Ref": "F"},
            "EventSourceArn": {"Fn::GetAtt": ["Q", "Arn"]},
        },
    }
    template = {
        "Resources": {
            "Q": {"Type": "AWS::SQS::Queue"},
            "Off": {**mapping, "Properties": {**mapping["Properties"], "Enabled": False}},
        }
    }
    resolver = IntrinsicResolver(refs={"F": "f"}, attributes={("Q", "Arn"): "arn:aws:sqs:x"})
    assert declared_event_sources(template, "F", resolver) == []
    template["Resources"]["Filtered"] = {
        **mapping,
        "Properties": {**mapping["Properties"], "FilterCriteria": {"Filters": [{"Pattern": "{}"}]}},
    }
    with pytest.raises(TemplateError, match="Filtered: FilterCriteria"):
        declared_event_sources(template, "F", resolver)


def test_s3_source_matches_event_patterns_and_filters() -> None:
    source = S3EventSource("b", ("s3:ObjectCreated:*",), prefix="_posts/", suffix=".md")
    assert source.accepts("ObjectCreated:Copy", "_posts/a.md")
    assert not source.accepts("ObjectRemoved:Delete", "_posts/a.md")
    assert not source.accepts("ObjectCreated:Put", "_posts/a.txt")


def test_reserved_concurrency_sets_the_local_limit_and_the_default_applies_otherwise() -> None:
    from blogpub_local.lambda_runtime import DEFAULT_CONCURRENCY, concurrency_limit

    properties = {"Handler": "app.lambda_handler", "CodeUri": "functions/render_post/"}
    resolver = IntrinsicResolver(refs={"F": "f"})
    reserved = function_spec("F", {**properties, "ReservedConcurrentExecutions": 2}, resolver, REPO)
    unreserved = function_spec("F", properties, resolver, REPO)

    assert reserved.reserved_concurrency == 2
    assert concurrency_limit(reserved, default=8) == 2
    assert unreserved.reserved_concurrency is None
    assert concurrency_limit(unreserved) == DEFAULT_CONCURRENCY
    assert concurrency_limit(unreserved, default=8) == 8


def test_a_stream_mapping_whose_filter_lambda_would_refuse_is_refused_by_name() -> None:
    # Given a stream mapping whose pattern uses an operator Lambda's filters do not have
    pattern = '{"dynamodb": {"Keys": {"sk": {"S": [{"regex": "^PAGE"}]}}}}'
    template = {
        "Resources": {
            "T": {"Type": "AWS::DynamoDB::Table"},
            "Stream": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "F"},
                    "EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]},
                    "FilterCriteria": {"Filters": [{"Pattern": pattern}]},
                },
            },
        }
    }
    resolver = IntrinsicResolver(
        refs={"F": "f"},
        attributes={("T", "StreamArn"): "arn:aws:dynamodb:us-east-1:1:table/t/stream/x"},
    )
    # Then reading the template fails, naming the mapping and the operator
    with pytest.raises(TemplateError, match=r"Stream: FilterCriteria: .*regex"):
        declared_event_sources(template, "F", resolver)
