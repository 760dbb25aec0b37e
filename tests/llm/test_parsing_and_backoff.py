"""Lenient parsing of answers and the backoff rules (no network)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from jobforge.llm.retry import RetryPolicy, retry_after_seconds
from jobforge.llm.structured import StructuredParseError, parse_structured


class Item(BaseModel):
    id: str
    code: str | None


class Answer(BaseModel):
    mappings: list[Item]


@pytest.mark.parametrize(
    "text",
    [
        '{"mappings": [{"id": "r1", "code": "15-1252.00"}]}',
        'Sure!\n```json\n{"mappings": [{"id": "r1", "code": "15-1252.00"}]}\n```',
        '[{"id": "r1", "code": "15-1252.00"}]',
        '```\n[{"id": "r1", "code": "15-1252.00"}]\n```',
        'Here is the mapping: [{"id": "r1", "code": "15-1252.00"}] Done.',
    ],
)
def test_plain_fenced_and_bare_json_parse(text: str) -> None:
    assert parse_structured(text, Answer) == Answer(mappings=[Item(id="r1", code="15-1252.00")])


@pytest.mark.parametrize("text", ["", "I cannot help.", '{"mappings": [{"id": "r1"', '{"other": 1}'])
def test_anything_else_is_malformed(text: str) -> None:
    with pytest.raises(StructuredParseError):
        parse_structured(text, Answer)


def test_retry_after_in_seconds_milliseconds_or_date() -> None:
    assert retry_after_seconds({"Retry-After": "12"}) == 12.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert 0 <= retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) < 1
    assert retry_after_seconds({}) is None and retry_after_seconds({"retry-after": "soon"}) is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 1.0)
    assert [policy.delay(n, None) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    low = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=lambda: 0.0)
    assert [low.delay(n, None) for n in range(1, 4)] == [0.5, 1.0, 2.0]
    assert policy.delay(1, 30.0) == 30.0  # the server's Retry-After wins over our backoff
