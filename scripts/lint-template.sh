#!/usr/bin/env bash
# Lints template.yaml offline, with no AWS credentials; exits non-zero on any finding.
#   1. cfn-lint on the SAM template (project venv);
#   2. `sam validate --lint` (its own venv: aws-sam-cli pins boto3 and click);
#   3. cfn-lint on the template after the real SAM transform: the only one of the three
#      that sees the generated roles, permissions and event source mappings, and so the
#      only one that catches a circular dependency (e.g. a !Ref to the notifying bucket).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
TEMPLATE=${1:-template.yaml}
PROJECT_VENV=.venv
SAM_VENV=.venv-sam

if [ ! -x "$PROJECT_VENV/bin/cfn-lint" ]; then
  echo "lint-template: $PROJECT_VENV/bin/cfn-lint is missing; install the dev dependencies first" >&2
  exit 2
fi
scripts/sam-venv.sh

# Nothing below talks to AWS: --lint runs cfn-lint in-process and the transform is local.
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true

status=0
echo "== cfn-lint $TEMPLATE"
"$PROJECT_VENV/bin/cfn-lint" "$TEMPLATE" || status=1

echo "== sam validate --lint"
"$SAM_VENV/bin/sam" validate --lint --template "$TEMPLATE" --region us-east-1 || status=1

echo "== cfn-lint on the SAM-transformed template"
transformed=$(mktemp --suffix=.json)
trap 'rm -f "$transformed"' EXIT
if "$SAM_VENV/bin/python" - "$TEMPLATE" >"$transformed" <<'PYTHON'
import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

with open(sys.argv[1], encoding="utf-8") as handle:
    template = yaml_parse(handle.read())
# `sam package` would replace local code folders with S3 locations; the transform needs those.
for resource in template.get("Resources", {}).values():
    properties = resource.get("Properties") or {}
    for uri in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(uri), str) and not properties[uri].startswith("s3://"):
            properties[uri] = "s3://packaged-code/" + properties[uri].strip("/")


class NoManagedPolicyNames:
    """The template names no managed policy, so no IAM lookup is needed."""

    def load(self):
        return {}


json.dump(transform(template, {}, NoManagedPolicyNames()), sys.stdout, indent=1)
PYTHON
then
  "$PROJECT_VENV/bin/cfn-lint" "$transformed" || status=1
  echo "== no Resource \"*\" in the effective policies (issue 16)"
  # The roles as deployed, SAM's additions included; the allowed actions define no resource
  # type, so IAM accepts only "*" for them (tests/unit/test_template.py says which and why).
  "$PROJECT_VENV/bin/python" - "$transformed" <<'PYTHON' || status=1
import json
import sys

ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}
resources = json.load(open(sys.argv[1], encoding="utf-8"))["Resources"]
findings = []
for logical_id, resource in resources.items():
    if resource["Type"] != "AWS::IAM::Role":
        continue
    properties = resource["Properties"]
    for arn in properties.get("ManagedPolicyArns", []):
        findings.append(f"{logical_id}: managed policy {arn}")
    for policy in properties.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            granted = statement["Resource"]
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "*" in (granted if isinstance(granted, list) else [granted]):
                if not set(actions) <= ALLOWED:
                    findings.append(f"{logical_id}: {actions} on \"*\"")
for finding in findings:
    print(f"lint-template: {finding}", file=sys.stderr)
sys.exit(1 if findings else 0)
PYTHON
else
  echo "lint-template: the SAM transform failed" >&2
  status=1
fi

if [ "$status" -eq 0 ]; then
  echo "lint-template: no findings"
fi
exit "$status"
