"""Parsing a model's text answer into a Pydantic model, leniently.

Structured outputs normally give clean JSON, but text paths (fallback providers, batch results,
older models) may wrap it in a Markdown fence or answer with a bare JSON array. Both parse here.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class StructuredParseError(ValueError):
    """The text is not JSON of the expected shape."""


def _json_candidates(text: str) -> list[str]:
    text = text.strip()
    found = [text]
    found += [block.strip() for block in _FENCE.findall(text)]
    # The outermost JSON array or object embedded in prose.
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            found.append(text[start : end + 1])
    return found


def _single_list_field(model: type[BaseModel]) -> str | None:
    """The name of the model's only field when that field is a list (so a bare array can fill it)."""
    fields = model.model_fields
    if len(fields) != 1:
        return None
    name, info = next(iter(fields.items()))
    origin = getattr(info.annotation, "__origin__", None)
    return name if origin is list else None


def parse_structured(text: str | None, model: type[T]) -> T:
    """``text`` as ``model``: plain JSON, fenced JSON, or a bare array for a one-list-field model."""
    if not text or not text.strip():
        raise StructuredParseError("empty answer")
    last_error = "no JSON found"
    for candidate in _json_candidates(text):
        try:
            data: Any = json.loads(candidate)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON ({exc.msg})"
            continue
        if isinstance(data, list):
            field = _single_list_field(model)
            if field is None:
                last_error = "a JSON array where an object was expected"
                continue
            data = {field: data}
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            last_error = f"unexpected shape ({exc.error_count()} validation errors)"
    raise StructuredParseError(last_error)
