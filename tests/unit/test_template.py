"""template.yaml: what the code needs from it, least privilege and the invariants of docs/design.md.

The template is read with the CLI's CloudFormation loader (short tags in their long JSON forms)
and SAM's Globals merged the way SAM merges them, so each test sees what a function gets.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from blogpub import config, keys
from blogpub_local.cfn_yaml import load_template
from blogpub_local.template import serverless_functions
from cfnlint.api import lint_file  # type: ignore[import-untyped]

from tests.conftest import EVENTS, REPO

TEMPLATE_PATH = REPO / "template.yaml"
LAYER_DIR = REPO / "layers" / "blogpub"
PACKAGE_DIRS = (LAYER_DIR / "blogpub", REPO / "functions")

# Variables the code reads that only some functions need; every other one is needed by all.
FUNCTION_SPECIFIC_VARIABLES = {config.RENDER_FUNCTION_NAME: {"RollbackFunction"}}
# Statements may name "*" only for actions that define no resource type, so that IAM accepts
# nothing else (AWS Service Authorization Reference, "Actions, resources, and condition keys":
# list_awsx-ray.html and list_amazondynamodb.html). Every other grant names its resource.
ACTIONS_WITHOUT_RESOURCES = {
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "dynamodb:ListStreams",
}
# What SAM adds to a role it makes for a function (and so the reason each function has its own
# role): AWSLambdaBasicExecutionRole (logs:* on "*"), AWSXrayWriteOnlyAccess with Tracing, and
# AWSLambdaSQSQueueExecutionRole / AWSLambdaDynamoDBExecutionRole for SQS and stream Events,
# all with Resource "*". scripts/lint-template.sh checks the transformed template too.
SAM_EVENTS_WITH_MANAGED_POLICIES = {"SQS", "DynamoDB", "Kinesis", "MQ", "MSK"}
# Set by the Lambda runtime itself; a template must not (and cannot) set these.
LAMBDA_RUNTIME_VARIABLE = re.compile(r"^(AWS_.*|LAMBDA_.*|_HANDLER|_X_AMZN_TRACE_ID|TZ)$")
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    resources: dict[str, Any] = template["Resources"]
    return resources


@pytest.fixture(scope="module")
def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical id -> properties with Globals merged in."""
    return serverless_functions(template)


@pytest.fixture(scope="module")
def roles(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Function logical id -> the properties of the execution role it names."""
    found = {}
    for logical_id, properties in functions.items():
        (role_id, attribute) = properties["Role"]["Fn::GetAtt"]
        assert attribute == "Arn" and resources[role_id]["Type"] == "AWS::IAM::Role"
        found[logical_id] = resources[role_id]["Properties"]
    return found


def mappings_of(resources: Mapping[str, Any], function_id: str) -> list[dict[str, Any]]:
    """The properties of every event source mapping that invokes ``function_id``."""
    return [
        resource["Properties"]
        for resource in of_type(resources, "AWS::Lambda::EventSourceMapping").values()
        if referenced_ids(resource["Properties"]["FunctionName"]) == {function_id}
    ]


def notifications(resources: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(bucket logical id, LambdaConfiguration) of every bucket notification."""
    return [
        (bucket_id, target)
        for bucket_id, bucket in of_type(resources, "AWS::S3::Bucket").items()
        for target in (bucket["Properties"].get("NotificationConfiguration") or {}).get(
            "LambdaConfigurations", []
        )
    ]


def properties_of(resources: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[logical_id].get("Properties", {})
    return properties


def of_type(resources: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in resources.items()
        if resource["Type"] == resource_type
    }


def referenced_ids(value: Any) -> set[str]:
    """Logical ids and parameters a value refers to through Ref, GetAtt or Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    elif isinstance(value, dict):
        for name, argument in value.items():
            if name == "Ref":
                found.add(str(argument))
            elif name == "Fn::GetAtt":
                target = argument[0] if isinstance(argument, list) else str(argument)
                found.add(str(target).split(".")[0])
            elif name == "Fn::Sub":
                text, variables = (
                    (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
                )
                found |= {
                    match.split(".")[0]
                    for match in re.findall(r"\$\{([^!}][^}]*)\}", str(text))
                    if match not in variables
                }
                found |= referenced_ids(variables)
            else:
                found |= referenced_ids(argument)
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(role_properties: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every statement of a role's inline policies (it has no managed ones)."""
    for policy in role_properties.get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def environment(function_properties: Mapping[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function_properties.get("Environment", {}).get("Variables", {})
    return variables


def variables_the_code_reads() -> set[str]:
    """config.py's names plus any literal name read through os.environ/getenv elsewhere."""
    names = {
        value
        for name, value in vars(config).items()
        if name.isupper() and isinstance(value, str) and value == name
    }
    literal_read = re.compile(
        r"""(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
        r"""|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
    )
    for directory in PACKAGE_DIRS:
        for source in directory.rglob("*.py"):
            for match in literal_read.finditer(source.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return {name for name in names if not LAMBDA_RUNTIME_VARIABLE.match(name)}


def load_env_json() -> dict[str, dict[str, str]]:
    payload: dict[str, dict[str, str]] = json.loads(
        (EVENTS / "env.json").read_text(encoding="utf-8")
    )
    return payload


# ------------------------------------------------------------------ code and environment


def test_the_template_declares_the_three_functions_of_the_design(
    functions: dict[str, dict[str, Any]],
) -> None:
    assert set(functions) == {"RenderPostFunction", "BuildIndexesFunction", "RollbackFunction"}


@pytest.mark.parametrize(
    "logical_id", ["RenderPostFunction", "BuildIndexesFunction", "RollbackFunction"]
)
def test_each_handler_resolves_to_a_callable_with_only_its_code_and_the_layer(
    functions: dict[str, dict[str, Any]], logical_id: str
) -> None:
    # Given the function's CodeUri and the layer folder on sys.path, as Lambda lays them out
    properties = functions[logical_id]
    code_dir = (REPO / properties["CodeUri"]).resolve()
    module_name, _, function_name = properties["Handler"].rpartition(".")
    env_json = load_env_json()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        **env_json["Parameters"],
        **env_json.get(logical_id, {}),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    probe = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(code_dir)!r}, {str(LAYER_DIR)!r}]\n"
        f"module = importlib.import_module({module_name!r})\n"
        f"assert module.__file__.startswith({str(code_dir)!r}), module.__file__\n"
        f"handler = getattr(module, {function_name!r})\n"
        "assert callable(handler), handler\n"
        "import blogpub\n"
        f"assert blogpub.__file__.startswith({str(LAYER_DIR)!r}), blogpub.__file__\n"
    )
    # When it is imported in a fresh interpreter (the three app.py modules share a name)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then the handler is a callable of that function's own app.py
    assert result.returncode == 0, result.stderr


def test_every_variable_the_code_reads_is_set_for_every_function_that_runs_it(
    functions: dict[str, dict[str, Any]],
) -> None:
    needed = variables_the_code_reads()
    assert config.SOURCE_BUCKET in needed and config.RENDER_FUNCTION_NAME in needed
    for logical_id, properties in functions.items():
        declared = set(environment(properties))
        required = {
            name
            for name in needed
            if logical_id in FUNCTION_SPECIFIC_VARIABLES.get(name, {logical_id})
        }
        assert required <= declared, f"{logical_id} lacks {sorted(required - declared)}"


def test_each_function_logs_under_its_own_service_name(
    functions: dict[str, dict[str, Any]],
) -> None:
    service_names = [environment(p).get("POWERTOOLS_SERVICE_NAME") for p in functions.values()]
    assert all(service_names) and len(set(service_names)) == len(functions)
    assert all(environment(p).get("POWERTOOLS_METRICS_NAMESPACE") for p in functions.values())


def test_template_defaults_equal_the_package_defaults(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    parameters = template["Parameters"]
    assert parameters["PostsPrefix"]["Default"] == config.DEFAULT_POSTS_PREFIX
    assert int(parameters["RollbackWindowDays"]["Default"]) == config.DEFAULT_ROLLBACK_WINDOW_DAYS
    assert int(parameters["MaxAssetBytes"]["Default"]) == config.DEFAULT_MAX_ASSET_BYTES
    for properties in functions.values():
        variables = environment(properties)
        assert variables[config.CONFIG_KEY] == config.DEFAULT_CONFIG_KEY
        assert int(variables[config.MAX_POST_BYTES]) == config.DEFAULT_MAX_POST_BYTES
        assert variables[config.POSTS_PREFIX] == {"Ref": "PostsPrefix"}
        assert variables[config.ROLLBACK_WINDOW_DAYS] == {"Ref": "RollbackWindowDays"}
        assert variables[config.MAX_ASSET_BYTES] == {"Ref": "MaxAssetBytes"}


def test_tracing_is_off_unless_deployed_with_xray_tracing_active(
    template: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Off, Powertools makes no Tracer and the X-Ray SDK never loads (bench/README.md)
    parameter = template["Parameters"]["XRayTracing"]
    assert parameter["Default"] == "PassThrough"
    assert set(parameter["AllowedValues"]) == {"PassThrough", "Active"}
    assert template["Conditions"]["TracingActive"] == {
        "Fn::Equals": [{"Ref": "XRayTracing"}, "Active"]
    }
    for properties in functions.values():
        assert properties["Tracing"] == {"Ref": "XRayTracing"}
        assert environment(properties)["POWERTOOLS_TRACE_DISABLED"] == {
            "Fn::If": ["TracingActive", "false", "true"]
        }


def test_env_json_gives_sam_local_a_value_for_every_declared_variable(
    functions: dict[str, dict[str, Any]],
) -> None:
    # sam local invoke --env-vars silently ignores names the template does not declare
    env_json = load_env_json()
    assert set(env_json) - {"Parameters"} <= set(functions)
    all_declared = set().union(*(environment(p) for p in functions.values()))
    assert set(env_json["Parameters"]) <= all_declared
    for logical_id, properties in functions.items():
        own = env_json.get(logical_id, {})
        assert set(own) <= set(environment(properties)), logical_id
        values = {**env_json["Parameters"], **own}
        missing = set(environment(properties)) - set(values)
        assert not missing, f"events/env.json gives {logical_id} no value for {sorted(missing)}"
        assert all(isinstance(value, str) for value in values.values())


def test_code_and_layer_folders_have_one_layout(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    layer = resources["BlogpubLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    content = REPO / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    assert (content / "blogpub" / "__init__.py").is_file()
    assert not (content / "python").exists(), "pick one layer layout, not both"
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime == "python3.13"
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    for properties in functions.values():
        assert (REPO / properties["CodeUri"] / "app.py").is_file()
        assert properties["Architectures"] == ["arm64"]
        assert properties["Tracing"] == {"Ref": "XRayTracing"}
        assert {"Ref": "BlogpubLayer"} in properties["Layers"]


def make_dry_run(makefile: Path, target: str) -> list[list[str]]:
    """The commands ``make`` would run for ``target`` as ``sam build`` calls it, split."""
    # Under `make test` the parent make's variables would make this one print its directory.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    command = ["make", "--no-print-directory", "--dry-run", "-f", str(makefile), target]
    answer = subprocess.run(
        [*command, "ARTIFACTS_DIR=/artifacts"],
        capture_output=True,
        text=True,
        check=True,
        env={**env, "PYTHON": "python3"},
    )
    return [shlex.split(line) for line in answer.stdout.replace("\\\n", " ").splitlines()]


def test_sam_builds_the_layer_and_functions_with_makefiles_for_the_declared_runtime(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]], template: dict[str, Any]
) -> None:
    (layer_id,) = of_type(resources, "AWS::Serverless::LayerVersion")
    layer = resources[layer_id]
    (architecture,) = layer["Properties"]["CompatibleArchitectures"]
    (runtime,) = layer["Properties"]["CompatibleRuntimes"]
    assert template["Globals"]["Function"]["Architectures"] == [architecture]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": architecture}

    commands = make_dry_run(
        REPO / layer["Properties"]["ContentUri"] / "Makefile", f"build-{layer_id}"
    )
    (pip,) = [c for c in commands if c[1:4] == ["-m", "pip", "install"]]
    option = {name: pip[i + 1] for i, name in enumerate(pip[:-1]) if name.startswith("--")}
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[architecture]
    assert re.fullmatch(rf"manylinux[\w]*_{machine}", option["--platform"])
    assert option["--python-version"] == runtime.removeprefix("python")
    assert option["--implementation"] == "cp"
    assert "--only-binary=:all:" in pip
    assert option["--target"] == "/artifacts/python"
    copied = [c for c in commands if c[:2] == ["cp", "-R"]]
    assert [Path(c[2]).name for c in copied] == ["blogpub"]

    for logical_id, properties in functions.items():
        assert resources[logical_id]["Metadata"] == {"BuildMethod": "makefile"}, logical_id
        code = REPO / properties["CodeUri"]
        (copy,) = make_dry_run(code / "Makefile", f"build-{logical_id}")
        assert copy == ["cp", str(code.resolve() / "app.py"), "/artifacts/"]


def test_every_function_logs_to_its_own_group_with_a_retention(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    groups = [properties["LoggingConfig"]["LogGroup"]["Ref"] for properties in functions.values()]
    assert len(set(groups)) == len(functions)
    for group in groups:
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert properties_of(resources, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# ------------------------------------------------------------------ storage


@pytest.mark.parametrize("bucket", ["SourceBucket", "SiteBucket"])
def test_buckets_are_private_encrypted_and_retained(resources: dict[str, Any], bucket: str) -> None:
    resource = resources[bucket]
    properties = resource["Properties"]
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    block = properties["PublicAccessBlockConfiguration"]
    assert all(
        block[flag] is True
        for flag in (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        )
    )
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert "WebsiteConfiguration" not in properties


def test_source_bucket_keeps_versions_for_the_rollback_window(resources: dict[str, Any]) -> None:
    properties = properties_of(resources, "SourceBucket")
    assert properties["VersioningConfiguration"]["Status"] == "Enabled"
    rules = properties["LifecycleConfiguration"]["Rules"]
    noncurrent = [
        rule["NoncurrentVersionExpiration"]
        for rule in rules
        if "NoncurrentVersionExpiration" in rule
    ]
    assert noncurrent == [{"NoncurrentDays": {"Ref": "RollbackWindowDays"}}]
    # Current versions never expire: the source bucket is the truth.
    assert not any("ExpirationInDays" in rule or "ExpirationDate" in rule for rule in rules)


def test_site_bucket_is_readable_only_by_this_distribution(resources: dict[str, Any]) -> None:
    policy = properties_of(resources, "SiteBucketPolicy")
    assert policy["Bucket"] == {"Ref": "SiteBucket"}
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert as_list(allow["Action"]) == ["s3:GetObject"]
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert "Distribution" in referenced_ids(source_arn)
    assert ":distribution/${Distribution}" in source_arn["Fn::Sub"]


def test_table_matches_the_key_module_and_keeps_its_history(resources: dict[str, Any]) -> None:
    resource = resources["Table"]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    properties = resource["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert {(k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]} == {
        (keys.PK, "HASH"),
        (keys.SK, "RANGE"),
    }
    assert {
        (a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]
    } == {
        (keys.PK, "S"),
        (keys.SK, "S"),
    }
    assert properties["TimeToLiveSpecification"] == {
        "AttributeName": keys.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert properties["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert properties["SSESpecification"]["SSEEnabled"] is True


# ------------------------------------------------------------------ delivery


def test_distribution_serves_the_site_bucket_through_origin_access_control(
    resources: dict[str, Any],
) -> None:
    oac = properties_of(resources, "SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert (
        oac["OriginAccessControlOriginType"],
        oac["SigningBehavior"],
        oac["SigningProtocol"],
    ) == (
        "s3",
        "always",
        "sigv4",
    )
    config_ = properties_of(resources, "Distribution")["DistributionConfig"]
    (origin,) = config_["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["SiteBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    behavior = config_["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == origin["Id"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["Compress"] is True
    # The stack's own policy (tests/unit/test_freshness_rules.py checks its properties).
    assert behavior["CachePolicyId"] == {"Ref": "SiteCachePolicy"}
    assert config_["HttpVersion"] == "http2and3"
    assert config_["IPV6Enabled"] is True
    assert config_["DefaultRootObject"] == "index.html"


def test_directory_urls_are_rewritten_at_the_viewer_request(resources: dict[str, Any]) -> None:
    behavior = properties_of(resources, "Distribution")["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    (association,) = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    function_id = association["FunctionARN"]["Fn::GetAtt"][0]
    function = properties_of(resources, function_id)
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["AutoPublish"] is True
    # !Sub puts SiteRoot in; tests/unit/test_edge_requests.py runs the code itself.
    assert "index.html" in function["FunctionCode"]["Fn::Sub"]
    assert "${SiteRoot}" in function["FunctionCode"]["Fn::Sub"]
    # Feeds and sitemaps have their own cache behaviour; it is served below the root too.
    (xml,) = properties_of(resources, "Distribution")["DistributionConfig"]["CacheBehaviors"]
    assert xml["FunctionAssociations"] == behavior["FunctionAssociations"]


def test_missing_pages_are_404_and_their_cached_miss_expires_quickly(
    resources: dict[str, Any],
) -> None:
    # docs/design.md, invariant 3: a brand-new URL is never invalidated, so a miss must not linger.
    responses = properties_of(resources, "Distribution")["DistributionConfig"][
        "CustomErrorResponses"
    ]
    by_code = {response["ErrorCode"]: response for response in responses}
    assert set(by_code) == {403, 404}
    for response in by_code.values():
        assert response["ResponseCode"] == 404
        assert response["ResponsePagePath"] == "/404.html"
        assert 0 < response["ErrorCachingMinTTL"] <= 10


def test_custom_domain_and_alarm_email_are_optional(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    config_ = properties_of(resources, "Distribution")["DistributionConfig"]
    assert config_["Aliases"]["Fn::If"][0] == "HasCustomDomain"
    assert config_["ViewerCertificate"]["Fn::If"][0] == "HasCustomDomain"
    assert {"DomainName", "CertificateArn"} <= referenced_ids(
        template["Conditions"]["HasCustomDomain"]
    )
    for name in ("DomainName", "CertificateArn", "AlarmEmail"):
        assert template["Parameters"][name]["Default"] == ""
    subscriptions = of_type(resources, "AWS::SNS::Subscription")
    assert subscriptions and all(
        s.get("Condition") == "HasAlarmEmail" for s in subscriptions.values()
    )


# ------------------------------------------------------------------ events and failures


def test_every_source_key_triggers_the_render_function(
    resources: dict[str, Any],
) -> None:
    # The bucket is Hexo's source/ folder: posts, pages, assets and _config.yml all reach the
    # function, with no filter (S3 refuses overlapping filters, so one per event type).
    events = []
    for bucket_id, target in notifications(resources):
        assert bucket_id == "SourceBucket"
        assert referenced_ids(target["Function"]) == {"RenderPostFunction"}
        assert "Filter" not in target
        events.append(target["Event"])
    assert sorted(events) == ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


def test_only_the_source_bucket_may_invoke_the_render_function_through_a_resource_policy(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    # Issue 16: SAM's S3 event permission names the account only, so any bucket of the
    # account could invoke; this one names the bucket (by name: no dependency cycle).
    (permission,) = of_type(resources, "AWS::Lambda::Permission").values()
    properties = permission["Properties"]
    assert referenced_ids(properties["FunctionName"]) == {"RenderPostFunction"}
    assert properties["Action"] == "lambda:InvokeFunction"
    assert properties["Principal"] == "s3.amazonaws.com"
    assert properties["SourceAccount"] == {"Ref": "AWS::AccountId"}
    bucket_name = properties_of(resources, "SourceBucket")["BucketName"]["Fn::Sub"]
    source_arn = properties["SourceArn"]["Fn::Sub"]
    assert source_arn == ["arn:${AWS::Partition}:s3:::" + bucket_name[0], bucket_name[1]]
    # S3 checks the permission when it stores the notification, so it must exist first.
    assert resources["SourceBucket"]["DependsOn"] == "RenderPostInvokedBySourceBucket"
    # No Event of SAM's adds another permission; the queue reaches it through a mapping.
    assert not any(properties.get("Events") for properties in functions.values())


def test_the_bucket_that_notifies_a_function_is_not_referenced_by_it(
    resources: dict[str, Any],
    functions: dict[str, dict[str, Any]],
    roles: dict[str, dict[str, Any]],
) -> None:
    # A Ref/GetAtt from a notified function (or its role, or its permission) back to its
    # bucket is a circular dependency.
    for bucket_id, target in notifications(resources):
        (function_id,) = referenced_ids(target["Function"])
        assert bucket_id not in referenced_ids(functions[function_id]), function_id
        assert bucket_id not in referenced_ids(roles[function_id]), function_id
        for permission in of_type(resources, "AWS::Lambda::Permission").values():
            assert bucket_id not in referenced_ids(permission["Properties"])
    # ... so the name it uses instead must be the bucket's own.
    source_name = properties_of(resources, "SourceBucket")["BucketName"]
    for properties in functions.values():
        assert environment(properties)[config.SOURCE_BUCKET] == source_name


def test_only_the_rollback_writes_sources_so_the_pipeline_cannot_trigger_itself(
    roles: dict[str, dict[str, Any]],
) -> None:
    for logical_id, role in roles.items():
        for statement in statements(role):
            writes = {
                a for a in as_list(statement["Action"]) if a.startswith(("s3:Put", "s3:Delete"))
            }
            on_source = any(
                "SourceBucket" in referenced_ids(r) or "blogpub-source-" in json.dumps(r)
                for r in as_list(statement["Resource"])
            )
            if writes and on_source:
                assert logical_id == "RollbackFunction", statement
                assert "s3:DeleteObjectVersion" not in writes


def test_render_failures_are_retried_twice_then_dead_lettered(
    functions: dict[str, dict[str, Any]], resources: dict[str, Any]
) -> None:
    invoke = functions["RenderPostFunction"]["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    on_failure = invoke["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert resources[on_failure["Destination"]["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"


def test_rebuild_messages_reach_the_render_function(
    functions: dict[str, dict[str, Any]], resources: dict[str, Any]
) -> None:
    render = functions["RenderPostFunction"]
    (sqs,) = mappings_of(resources, "RenderPostFunction")
    assert sqs["EventSourceArn"] == {"Fn::GetAtt": ["RebuildQueue", "Arn"]}
    assert "ReportBatchItemFailures" in sqs["FunctionResponseTypes"]
    queue = properties_of(resources, "RebuildQueue")
    # Lambda refuses an SQS source whose visibility timeout is below the function timeout.
    assert queue["VisibilityTimeout"] >= render["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] in resources
    for properties in functions.values():
        assert environment(properties)[config.REBUILD_QUEUE_URL] == {"Ref": "RebuildQueue"}


def test_index_builds_bisect_failing_batches_and_dead_letter_them(
    functions: dict[str, dict[str, Any]], resources: dict[str, Any]
) -> None:
    (stream,) = mappings_of(resources, "BuildIndexesFunction")
    assert stream["EventSourceArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert stream["StartingPosition"] == "TRIM_HORIZON"
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 <= stream["MaximumRetryAttempts"] <= 10
    assert stream["MaximumRecordAgeInSeconds"] > 0
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= stream["BatchSize"] <= 10_000  # DynamoDB streams' maximum
    on_failure = stream["DestinationConfig"]["OnFailure"]
    assert resources[on_failure["Destination"]["Fn::GetAtt"][0]]["Type"] == "AWS::SQS::Queue"


def test_the_rollback_function_is_invoked_by_admins_only(
    functions: dict[str, dict[str, Any]], resources: dict[str, Any]
) -> None:
    rollback = functions["RollbackFunction"]
    assert not rollback.get("Events") and not mappings_of(resources, "RollbackFunction")
    assert not any(
        referenced_ids(t["Function"]) == {"RollbackFunction"} for _, t in notifications(resources)
    )
    # Issue 16: its URL takes SigV4-signed calls only (the audit names the caller's ARN).
    assert rollback["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    assert not any(
        referenced_ids(p["Properties"].get("FunctionName")) & {"RollbackFunction"}
        for p in of_type(resources, "AWS::Lambda::Permission").values()
    )


def dead_letter_queues(resources: Mapping[str, Any], functions: Mapping[str, Any]) -> set[str]:
    """Queues that receive what failed: OnFailure destinations and redrive targets."""
    queues = set()
    for properties in functions.values():
        configs = [properties.get("EventInvokeConfig", {})]
        for config_ in configs:
            destination = (
                config_.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            )
            if destination:
                queues |= referenced_ids(destination)
    for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values():
        destination = mapping["Properties"].get("DestinationConfig", {}).get("OnFailure", {})
        queues |= referenced_ids(destination.get("Destination"))
    for queue in of_type(resources, "AWS::SQS::Queue").values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            queues |= referenced_ids(redrive["deadLetterTargetArn"])
    return queues


def test_queues_are_encrypted_and_dead_letters_are_kept_fourteen_days(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    dead_letters = dead_letter_queues(resources, functions)
    assert len(dead_letters) == 3
    for logical_id, queue in of_type(resources, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties
        if logical_id in dead_letters:
            assert properties["MessageRetentionPeriod"] == DEAD_LETTER_RETENTION_SECONDS


def alarm_subjects(resources: Mapping[str, Any], metric: str) -> set[str]:
    subjects = set()
    for alarm in of_type(resources, "AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        if properties["MetricName"] != metric:
            continue
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        assert properties["Threshold"] == 0
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        for dimension in properties["Dimensions"]:
            subjects |= referenced_ids(dimension["Value"])
    return subjects


def test_every_dead_letter_queue_and_every_function_has_an_alarm(
    resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert dead_letter_queues(resources, functions) <= alarm_subjects(
        resources, "ApproximateNumberOfMessagesVisible"
    )
    assert set(functions) <= alarm_subjects(resources, "Errors")


# ------------------------------------------------------------------ least privilege


def test_each_function_has_a_role_of_its_own_with_no_managed_policy(
    functions: dict[str, dict[str, Any]], roles: dict[str, dict[str, Any]]
) -> None:
    # Issue 16: with no Role, SAM makes one with managed policies that grant "*".
    for logical_id, properties in functions.items():
        assert "Policies" not in properties, logical_id
        assert not {e["Type"] for e in properties.get("Events", {}).values()} & (
            SAM_EVENTS_WITH_MANAGED_POLICIES
        ), logical_id
        role = roles[logical_id]
        assert not role.get("ManagedPolicyArns"), logical_id
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert len({json.dumps(p["Role"]) for p in functions.values()}) == len(functions)


def test_no_policy_grants_every_resource_but_for_actions_that_have_none(
    resources: dict[str, Any],
) -> None:
    for logical_id, role in of_type(resources, "AWS::IAM::Role").items():
        for statement in statements(role["Properties"]):
            assert statement["Effect"] == "Allow"
            actions = as_list(statement["Action"])
            assert all(not action.endswith(":*") and action != "*" for action in actions), statement
            if "*" in as_list(statement["Resource"]):
                assert set(actions) <= ACTIONS_WITHOUT_RESOURCES, (logical_id, statement)


def test_each_function_writes_only_its_own_log_group(
    functions: dict[str, dict[str, Any]], roles: dict[str, dict[str, Any]]
) -> None:
    for logical_id, properties in functions.items():
        (group,) = referenced_ids(properties["LoggingConfig"]["LogGroup"])
        assert resources_of(roles[logical_id], "logs:") == {group}, logical_id
        assert {a for a in granted_actions(roles[logical_id]) if a.startswith("logs:")} == {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        }


def grants(role: Mapping[str, Any], action: str, resource: Any) -> bool:
    return any(
        action in as_list(statement["Action"]) and resource in as_list(statement["Resource"])
        for statement in statements(role)
    )


def test_each_event_source_is_read_and_dead_lettered_with_scoped_grants(
    resources: dict[str, Any],
    functions: dict[str, dict[str, Any]],
    roles: dict[str, dict[str, Any]],
) -> None:
    # What the managed execution roles granted on "*", granted on the one source instead.
    needed = {
        "AWS::SQS::Queue": (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        ),
        "AWS::DynamoDB::Table": (
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
        ),
    }
    for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        (function_id,) = referenced_ids(properties["FunctionName"])
        source = properties["EventSourceArn"]
        (source_id,) = referenced_ids(source)
        for action in needed[resources[source_id]["Type"]]:
            assert grants(roles[function_id], action, source), (function_id, action)
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
        if destination:
            assert grants(roles[function_id], "sqs:SendMessage", destination["Destination"])
    for function_id, properties in functions.items():
        on_failure = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {})
        if on_failure:
            destination = on_failure["OnFailure"]["Destination"]
            assert grants(roles[function_id], "sqs:SendMessage", destination), function_id


def resources_of(role_properties: Mapping[str, Any], action_prefix: str) -> set[str]:
    """What the statements granting actions of one service refer to."""
    found: set[str] = set()
    for statement in statements(role_properties):
        if any(a.startswith(action_prefix) for a in as_list(statement["Action"])):
            found |= referenced_ids(statement["Resource"])
    return found


def test_each_service_is_granted_on_this_stack_s_resources_only(
    roles: dict[str, dict[str, Any]],
) -> None:
    dead_letters = {"RenderDeadLetterQueue", "IndexDeadLetterQueue"}
    for logical_id, properties in roles.items():
        assert resources_of(properties, "dynamodb:") <= {"Table"}, logical_id
        assert resources_of(properties, "sqs:") <= {"RebuildQueue", *dead_letters}, logical_id
        assert resources_of(properties, "s3:") <= {
            "SourceBucket",
            "SiteBucket",
            "PostsPrefix",
            "AWS::Partition",
            "AWS::AccountId",
            "AWS::Region",
            "AWS::StackId",
        }, logical_id
        assert resources_of(properties, "lambda:") <= {"RenderPostFunction"}, logical_id
    assert resources_of(roles["BuildIndexesFunction"], "cloudfront:") == {
        "Distribution",
        "AWS::Partition",
        "AWS::AccountId",
    }
    for name in ("RenderPostFunction", "RollbackFunction"):
        assert not resources_of(roles[name], "cloudfront:")


def granted_actions(role_properties: Mapping[str, Any]) -> set[str]:
    return {a for s in statements(role_properties) for a in as_list(s["Action"])}


def test_the_index_builder_reads_the_table_and_writes_only_page_states(
    roles: dict[str, dict[str, Any]],
) -> None:
    dynamodb = {
        a for a in granted_actions(roles["BuildIndexesFunction"]) if a.startswith("dynamodb:")
    }
    stream_reads = {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    page_states = "dynamodb:BatchWriteItem"
    assert dynamodb == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"} | (
        stream_reads | {page_states}
    )
    # Its one write is of the items keys.page_state_pk addresses, by IAM's own condition.
    (writes,) = [
        s for s in statements(roles["BuildIndexesFunction"]) if page_states in as_list(s["Action"])
    ]
    assert as_list(writes["Action"]) == [page_states]
    leading = writes["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert leading == [keys.page_state_pk("*")]
    assert "cloudfront:CreateInvalidation" in granted_actions(roles["BuildIndexesFunction"])

    # Posts that link to a changed post name are re-rendered through RebuildQueue.
    assert "sqs:SendMessage" in granted_actions(roles["BuildIndexesFunction"])
    assert resources_of(roles["BuildIndexesFunction"], "sqs:") == {
        "RebuildQueue",
        "IndexDeadLetterQueue",  # the stream mapping's on-failure destination
    }


def test_the_publisher_can_commit_its_conditional_transaction(
    roles: dict[str, dict[str, Any]],
) -> None:
    # TransactWriteItems is authorised per item: each Put/Update/Delete/ConditionCheck.
    needed = {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
    }
    assert needed <= granted_actions(roles["RenderPostFunction"])


def test_the_rollback_restores_versions_without_deleting_any(
    roles: dict[str, dict[str, Any]],
) -> None:
    actions = granted_actions(roles["RollbackFunction"])
    assert {
        "s3:ListBucketVersions",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "sqs:SendMessage",
    } <= actions
    assert "s3:DeleteObjectVersion" not in actions
    assert grants(
        roles["RollbackFunction"],
        "lambda:InvokeFunction",
        {"Fn::GetAtt": ["RenderPostFunction", "Arn"]},
    )
    for name in ("RenderPostFunction", "BuildIndexesFunction"):
        assert "lambda:InvokeFunction" not in granted_actions(roles[name])


def test_outputs_name_what_an_operator_needs(template: dict[str, Any]) -> None:
    expected = {
        "SourceBucketName",
        "SiteBucketName",
        "TableName",
        "DistributionId",
        "DistributionDomainName",
        "RenderPostFunctionName",
        "BuildIndexesFunctionName",
        "RollbackFunctionName",
        "AlarmTopicArn",
        "RebuildQueueUrl",
    }
    assert expected <= set(template["Outputs"])


def test_cfn_lint_finds_nothing() -> None:
    matches = lint_file(TEMPLATE_PATH)
    assert [str(match) for match in matches] == []
