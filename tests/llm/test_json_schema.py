"""Our strict response_format converter (pydantic model -> OpenAI strict json_schema)."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from jobforge.imputation.llm_imputation import ImputationResponse
from jobforge.llm.json_schema import response_format_for, strict_json_schema
from jobforge.mapping.prompts import MappingAnswer


class Inner(BaseModel):
    label: str
    note: str | None = None


class Outer(BaseModel):
    kind: Literal["a", "b"]
    inner: Inner = Field(description="a nested model with a description (a $ref with a sibling)")
    items: list[Inner]
    maybe: Inner | None = None


def objects(node: object) -> list[dict]:
    """Every object schema in ``node``."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += objects(value)
    elif isinstance(node, list):
        for value in node:
            found += objects(value)
    return found


@pytest.mark.parametrize("model", [Outer, MappingAnswer, ImputationResponse])
def test_every_object_requires_all_its_properties_and_forbids_others(model: type[BaseModel]) -> None:
    schema = strict_json_schema(model)

    assert objects(schema)
    for node in objects(schema):
        assert node["additionalProperties"] is False
        assert node["required"] == list(node.get("properties", {}))
    text = json.dumps(schema)
    assert '"default": null' not in text


def test_a_reference_with_a_description_is_inlined_and_plain_references_stay() -> None:
    schema = strict_json_schema(Outer)

    inner = schema["properties"]["inner"]
    assert "$ref" not in inner and inner["description"].startswith("a nested model")
    assert inner["properties"]["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert schema["properties"]["items"]["items"] == {"$ref": "#/$defs/Inner"}
    assert schema["$defs"]["Inner"]["required"] == ["label", "note"]


def test_the_response_format_names_the_model_and_is_strict() -> None:
    assert response_format_for(MappingAnswer) == {
        "type": "json_schema",
        "json_schema": {"name": "MappingAnswer", "schema": strict_json_schema(MappingAnswer), "strict": True},
    }
    assert strict_json_schema(Outer) is not strict_json_schema(Outer)  # fresh dicts: callers may change them


@pytest.mark.parametrize("model", [Outer, MappingAnswer, ImputationResponse])
def test_same_as_the_sdk_helper_while_the_sdk_still_has_it(model: type[BaseModel]) -> None:
    sdk = pytest.importorskip("openai.lib._pydantic")  # private: only a cross-check, never used by the code
    assert strict_json_schema(model) == sdk.to_strict_json_schema(model)
