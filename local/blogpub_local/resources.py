"""Creates the template's plain resources on moto from their own Properties.

Buckets (with versioning), tables (key schema, indexes, stream, TTL), queues (with their
redrive policy) and CloudFront distributions are created; every other resource gets a
stable placeholder name and ARN so references to it still resolve. Physical names follow
CloudFormation: the name property when set, else ``<stack>-<LogicalId>-<suffix>``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blogpub_local.template import (
    IntrinsicResolver,
    TemplateError,
    UnresolvedReferenceError,
    resource_is_active,
)


@dataclass
class Clients:
    s3: Any
    dynamodb: Any
    sqs: Any
    cloudfront: Any


@dataclass
class CreatedResources:
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    queue_urls: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    queue_urls_by_arn: dict[str, str] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)  # logical id -> id
    placeholders: list[str] = field(default_factory=list)  # logical ids not created


def physical_name(stack_name: str, logical_id: str, *, lower: bool = False) -> str:
    suffix = uuid.uuid5(uuid.NAMESPACE_URL, f"{stack_name}/{logical_id}").hex[:8]
    name = f"{stack_name}-{logical_id}-{suffix}"
    return name.lower() if lower else name


def _create_bucket(
    logical_id: str, properties: Mapping[str, Any], resolver: IntrinsicResolver, clients: Clients
) -> str:
    name = str(
        properties.get("BucketName") or physical_name(resolver.stack_name, logical_id, lower=True)
    )
    if resolver.region == "us-east-1":
        clients.s3.create_bucket(Bucket=name)
    else:
        clients.s3.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": resolver.region}
        )
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        clients.s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={"Status": str(versioning)}
        )
    resolver.refs[logical_id] = name
    region = resolver.region
    resolver.attributes.update(
        {
            (logical_id, "Arn"): f"arn:aws:s3:::{name}",
            (logical_id, "DomainName"): f"{name}.s3.amazonaws.com",
            (logical_id, "RegionalDomainName"): f"{name}.s3.{region}.amazonaws.com",
            (logical_id, "WebsiteURL"): f"http://{name}.s3-website-{region}.amazonaws.com",
        }
    )
    return name


def _table_request(name: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": properties.get("BillingMode", "PROVISIONED"),
    }
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = properties.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    stream = properties.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    indexes = properties.get("GlobalSecondaryIndexes")
    if indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                key: value
                for key, value in index.items()
                if key != "ContributorInsightsSpecification"
            }
            for index in indexes
        ]
    return request


def declared_table_request(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    """CreateTable for the template's one DynamoDB table, under ``name`` (tests, bench)."""
    (table,) = [
        resource
        for resource in (template.get("Resources") or {}).values()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    ]
    return _table_request(name, table["Properties"])


def site_distribution_config(name: str, bucket: str, region: str) -> dict[str, Any]:
    """A DistributionConfig moto accepts for a distribution in front of ``bucket``."""
    origin = {"Id": "site", "DomainName": f"{bucket}.s3.{region}.amazonaws.com"}
    return distribution_config(
        name, {"DistributionConfig": {"Comment": name, "Origins": [origin]}}, name
    )


def _create_table(
    logical_id: str, properties: Mapping[str, Any], resolver: IntrinsicResolver, clients: Clients
) -> str:
    name = str(properties.get("TableName") or physical_name(resolver.stack_name, logical_id))
    description = clients.dynamodb.create_table(**_table_request(name, properties))[
        "TableDescription"
    ]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        clients.dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    resolver.refs[logical_id] = name
    resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
    if description.get("LatestStreamArn"):
        resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
    return name


QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def _create_queue(
    logical_id: str, properties: Mapping[str, Any], resolver: IntrinsicResolver, clients: Clients
) -> tuple[str, str]:
    name = str(properties.get("QueueName") or physical_name(resolver.stack_name, logical_id))
    attributes = {
        key: str(properties[key]).lower()
        if isinstance(properties[key], bool)
        else str(properties[key])
        for key in QUEUE_ATTRIBUTES
        if key in properties
    }
    if properties.get("RedrivePolicy"):
        attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
    url = str(clients.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    resolver.refs[logical_id] = url
    resolver.attributes[(logical_id, "Arn")] = arn
    resolver.attributes[(logical_id, "QueueName")] = name
    resolver.attributes[(logical_id, "QueueUrl")] = url
    return url, arn


def distribution_config(
    logical_id: str, properties: Mapping[str, Any], stack_name: str
) -> dict[str, Any]:
    """A DistributionConfig moto accepts, keeping the template's origins and comment."""
    config = properties.get("DistributionConfig") or {}
    origins = [
        {
            "Id": str(origin.get("Id", f"origin{index}")),
            "DomainName": str(origin.get("DomainName", "example.com")),
            "OriginPath": str(origin.get("OriginPath", "")),
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        for index, origin in enumerate(config.get("Origins") or [{}])
    ]
    default_behavior = config.get("DefaultCacheBehavior") or {}
    return {
        "CallerReference": f"{stack_name}-{logical_id}",
        "Comment": str(config.get("Comment", logical_id)),
        "Enabled": bool(config.get("Enabled", True)),
        "DefaultRootObject": str(config.get("DefaultRootObject", "index.html")),
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": {
            "TargetOriginId": str(default_behavior.get("TargetOriginId", origins[0]["Id"])),
            "ViewerProtocolPolicy": str(
                default_behavior.get("ViewerProtocolPolicy", "redirect-to-https")
            ),
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }


def _create_distribution(
    logical_id: str, properties: Mapping[str, Any], resolver: IntrinsicResolver, clients: Clients
) -> str:
    created = clients.cloudfront.create_distribution(
        DistributionConfig=distribution_config(logical_id, properties, resolver.stack_name)
    )["Distribution"]
    resolver.refs[logical_id] = created["Id"]
    resolver.attributes[(logical_id, "Id")] = created["Id"]
    resolver.attributes[(logical_id, "DomainName")] = created["DomainName"]
    return str(created["Id"])


NAME_PROPERTIES = ("BucketName", "TableName", "QueueName", "FunctionName", "TopicName", "Name")


def _declared_name(properties: Mapping[str, Any], resolver: IntrinsicResolver) -> str | None:
    for name_property in NAME_PROPERTIES:
        if name_property in properties:
            try:
                return str(resolver.resolve(properties[name_property]))
            except UnresolvedReferenceError:
                return None
    return None


def _placeholder(logical_id: str, resource: Mapping[str, Any], resolver: IntrinsicResolver) -> None:
    """Names for resources the local stack does not run (roles, alarms, layers, ...)."""
    resource_type = str(resource.get("Type", ""))
    service = resource_type.split("::")[1].lower() if "::" in resource_type else "local"
    name = _declared_name(resource.get("Properties") or {}, resolver) or physical_name(
        resolver.stack_name, logical_id, lower=service == "s3"
    )
    region, account = resolver.region, resolver.account_id
    if resource_type == "AWS::Serverless::Function":
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        resolver.refs[logical_id] = name
    elif resource_type in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
        arn = f"arn:aws:lambda:{region}:{account}:layer:{name}:1"
        resolver.refs[logical_id] = arn
    elif service == "sqs":
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        resolver.refs[logical_id] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    elif service == "s3":
        arn = f"arn:aws:s3:::{name}"
        resolver.refs[logical_id] = name
    else:
        arn = f"arn:aws:{service}:{region}:{account}:{name}"
        resolver.refs[logical_id] = arn if service in ("sns", "iam") else name
    resolver.attributes.setdefault((logical_id, "Arn"), arn)
    resolver.attributes.setdefault((logical_id, "Id"), name)
    resolver.attributes.setdefault((logical_id, "Name"), name)


def create_resources(
    template: Mapping[str, Any], resolver: IntrinsicResolver, clients: Clients
) -> CreatedResources:
    """Create what the stack runs on moto; fill ``resolver`` with every physical name."""
    created = CreatedResources()
    pending: dict[str, Mapping[str, Any]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not resource_is_active(resource, resolver):
            continue
        if resource.get("Type") in CREATORS:
            pending[logical_id] = resource
        else:
            _placeholder(logical_id, resource, resolver)
            created.placeholders.append(logical_id)
            resolver.placeholders.add(logical_id)
    while pending:
        progressed = False
        for logical_id, resource in list(pending.items()):
            try:
                properties = resolver.resolve(resource.get("Properties") or {})
            except UnresolvedReferenceError:
                continue  # depends on a resource created later in this loop
            CREATORS[str(resource["Type"])](logical_id, properties, resolver, clients, created)
            del pending[logical_id]
            progressed = True
        if not progressed:
            raise TemplateError(f"template: cannot resolve the properties of {sorted(pending)}")
    return created


def _bucket(
    lid: str, props: Any, resolver: IntrinsicResolver, clients: Clients, out: CreatedResources
) -> None:
    out.buckets[lid] = _create_bucket(lid, props, resolver, clients)


def _table(
    lid: str, props: Any, resolver: IntrinsicResolver, clients: Clients, out: CreatedResources
) -> None:
    out.tables[lid] = _create_table(lid, props, resolver, clients)


def _queue(
    lid: str, props: Any, resolver: IntrinsicResolver, clients: Clients, out: CreatedResources
) -> None:
    url, arn = _create_queue(lid, props, resolver, clients)
    out.queue_urls[lid] = url
    out.queue_urls_by_arn[arn] = url


def _distribution(
    lid: str, props: Any, resolver: IntrinsicResolver, clients: Clients, out: CreatedResources
) -> None:
    out.distributions[lid] = _create_distribution(lid, props, resolver, clients)


CREATORS = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::CloudFront::Distribution": _distribution,
}


def placeholder_names(template: Mapping[str, Any], resolver: IntrinsicResolver) -> None:
    """Names for every resource without creating any (for `blogpub invoke` without a stack)."""
    for logical_id, resource in (template.get("Resources") or {}).items():
        _placeholder(logical_id, resource, resolver)
        resolver.placeholders.add(logical_id)
