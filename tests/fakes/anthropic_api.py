"""The Anthropic Messages API as the fake speaks it: request parsing and response shapes.

``POST /v1/messages`` and Message Batches (``/v1/messages/batches``…); used by
:mod:`fakes.llm_server` (over a socket) and :mod:`fakes.transport` (without one).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fakes.llm_call import FakeBatch, LLMCall, input_tokens, iso, text_of
from jobforge.llm.tokens import estimate_tokens

ERROR_TYPES = {
    429: "rate_limit_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    400: "invalid_request_error",
}


def anthropic_call(body: dict[str, Any], batch: bool = False) -> LLMCall:
    system = text_of(body.get("system", ""))
    user = "\n".join(text_of(m.get("content")) for m in body.get("messages", []) if m.get("role") == "user")
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    if schema is None and body.get("tools"):  # strict tool use: the tool's input schema
        schema = body["tools"][0].get("input_schema")
    return LLMCall("anthropic", body.get("model", ""), system, user, schema, body, batch)


def anthropic_message(call: LLMCall, text: str, refused: bool, truncated: bool = False) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": call.model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "refusal" if refused else ("max_tokens" if truncated else "end_turn"),
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens(call), "output_tokens": estimate_tokens(text)},
    }


def error_payload(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}


def batch_item(custom_id: str, message: dict[str, Any] | None, failure: str | None) -> dict[str, Any]:
    """One line of a batch's results: the message, or an error naming ``failure``."""
    if failure is not None:
        error = {"type": "error", "error": {"type": "api_error", "message": failure}}
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


def expired_items(batch: FakeBatch) -> list[dict[str, Any]]:
    return [{"custom_id": cid, "result": {"type": "expired"}} for cid, _ in batch.items]


def batch_json(batch: FakeBatch, base_url: str) -> dict[str, Any]:
    done = batch.done
    succeeded = sum(1 for r in batch.results if r["result"]["type"] == "succeeded")
    expired = sum(1 for r in batch.results if r["result"]["type"] == "expired")
    return {
        "id": batch.id,
        "type": "message_batch",
        "processing_status": "ended" if done else "in_progress",
        "request_counts": {
            "processing": 0 if done else len(batch.items),
            "succeeded": succeeded,
            "errored": len(batch.results) - succeeded - expired,
            "canceled": 0,
            "expired": expired,
        },
        "created_at": iso(batch.created),
        "expires_at": iso(batch.created + timedelta(hours=24)),
        "ended_at": iso(datetime.now(UTC)) if done else None,
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": f"{base_url}/v1/messages/batches/{batch.id}/results" if done else None,
    }
