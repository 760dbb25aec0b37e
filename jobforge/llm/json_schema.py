"""Pydantic model -> OpenAI strict structured-output ``response_format`` (our own, small converter).

OpenAI's strict mode accepts a subset of JSON Schema: every object lists all its properties as
required and forbids others (``additionalProperties: false``); optional fields are expressed as
nullable (``anyOf`` with ``null``), so a ``None`` default carries no meaning and is dropped; a
``$ref`` may not have sibling keywords, so such a reference is inlined. This module applies those
rules to ``model.model_json_schema()`` — the same result as the SDK's private helper, through
public APIs only.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema made strict (see the module docstring); a new dict each call."""
    schema = copy.deepcopy(model.model_json_schema())
    return _strict(schema, schema)


def response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    """The Chat Completions ``response_format`` asking for JSON that matches ``model``, strictly."""
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": strict_json_schema(model), "strict": True},
    }


def _strict(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    for defs_key in ("$defs", "definitions"):
        for name, sub in (node.get(defs_key) or {}).items():
            node[defs_key][name] = _strict(sub, root)
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        node["properties"] = {name: _strict(sub, root) for name, sub in properties.items()}
    if isinstance(node.get("items"), dict):
        node["items"] = _strict(node["items"], root)
    if isinstance(node.get("anyOf"), list):
        node["anyOf"] = [_strict(variant, root) for variant in node["anyOf"]]
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1:
            node.update(_strict(node.pop("allOf")[0], root))
        else:
            node["allOf"] = [_strict(part, root) for part in all_of]
    if "default" in node and node["default"] is None:
        del node["default"]
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        # A $ref with siblings (a description, say) is not allowed: inline what it points to.
        resolved = _resolve(root, ref)
        del node["$ref"]
        return _strict({**copy.deepcopy(resolved), **node}, root)
    return node


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"Unexpected $ref {ref!r}: only local references (#/...) are supported")
    found: Any = root
    for key in ref[2:].split("/"):
        found = found[key]
    if not isinstance(found, dict):
        raise ValueError(f"$ref {ref!r} does not point to a schema")
    return found
