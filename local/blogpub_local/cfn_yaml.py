"""A YAML loader for CloudFormation templates: short tags become their long JSON forms.

``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` -> ``{"Fn::GetAtt": ["A", "B"]}``,
``!Sub ...`` -> ``{"Fn::Sub": ...}`` and so on, so the rest of the CLI only ever sees the
JSON shape CloudFormation documents. Dates stay strings (``AWSTemplateFormatVersion``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Short tags whose long form is "Fn::<name>"; Ref and Condition have no "Fn::" prefix.
FUNCTION_TAGS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


class TemplateLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags; timestamps are kept as text."""


def _node_value(loader: TemplateLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise yaml.constructor.ConstructorError(
        None, None, f"unexpected node {node!r}", node.start_mark
    )


def _construct_ref(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _node_value(loader, node)}


def _construct_condition(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _node_value(loader, node)}


def _construct_get_att(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        # "Resource.Attr.With.Dots": only the first dot separates the resource
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {"Fn::GetAtt": value}


def _function_constructor(name: str) -> Any:
    def construct(loader: TemplateLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _node_value(loader, node)}

    return construct


TemplateLoader.add_constructor("!Ref", _construct_ref)
TemplateLoader.add_constructor("!Condition", _construct_condition)
TemplateLoader.add_constructor("!GetAtt", _construct_get_att)
for _tag in FUNCTION_TAGS:
    if _tag != "GetAtt":
        TemplateLoader.add_constructor(f"!{_tag}", _function_constructor(_tag))

# CloudFormation reads `2010-09-09` as a string; SafeLoader would make it a date.
TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def loads_template(text: str) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON) into its JSON shape."""
    document = yaml.load(text, Loader=TemplateLoader)
    if not isinstance(document, dict):
        raise ValueError("template: expected a mapping at the top level")
    return document


def load_template(path: Path) -> dict[str, Any]:
    return loads_template(path.read_text(encoding="utf-8"))
