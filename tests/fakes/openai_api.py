"""The OpenAI Chat Completions, Files and Batches APIs as the fake speaks them: request parsing and
response shapes; used by :mod:`fakes.llm_server` (over a socket) and :mod:`fakes.transport` (without one).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fakes.llm_call import FakeBatch, LLMCall, input_tokens, text_of
from jobforge.llm.tokens import estimate_tokens


def openai_call(body: dict[str, Any], batch: bool = False) -> LLMCall:
    messages = body.get("messages", [])
    system = "\n".join(text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    user = "\n".join(text_of(m.get("content")) for m in messages if m.get("role") == "user")
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema")
    return LLMCall("openai", body.get("model", ""), system, user, schema, body, batch)


def openai_completion(call: LLMCall, text: str, refused: bool, truncated: bool = False) -> dict[str, Any]:
    prompt, completion = input_tokens(call), estimate_tokens(text)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": call.model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if refused else text,
                    "refusal": text if refused else None,
                },
                "finish_reason": "length" if truncated else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    }


def error_payload(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    del status  # OpenAI says what went wrong in ``type``/``code``, not by status
    return {"error": {"message": message, "type": code or "server_error", "param": None, "code": code}}


def batch_item(request_id: str, custom_id: str, completion: dict[str, Any] | None, failure: str | None) -> dict[str, Any]:
    """One line of a batch's output file: the completion, or a 500 naming ``failure``."""
    if failure is not None:
        response = {"status_code": 500, "request_id": "req", "body": {"error": {"message": failure}}}
    else:
        response = {"status_code": 200, "request_id": "req", "body": completion}
    return {"id": request_id, "custom_id": custom_id, "response": response, "error": None}


def file_json(file_id: str, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "object": "file",
        "bytes": len(content),
        "created_at": int(time.time()),
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
    }


def batch_json(batch: FakeBatch, endpoint: str = "/v1/chat/completions") -> dict[str, Any]:
    done = batch.done
    failed = sum(1 for r in batch.results if r["response"]["status_code"] != 200)
    return {
        "id": batch.id,
        "object": "batch",
        "endpoint": endpoint,
        "input_file_id": batch.input_file_id,
        "completion_window": "24h",
        "status": ("expired" if batch.expired else "completed") if done else "in_progress",
        "created_at": int(batch.created.timestamp()),
        "output_file_id": batch.output_file_id,
        "error_file_id": None,
        "request_counts": {
            "total": len(batch.items),
            "completed": len(batch.results) - failed,
            "failed": failed,
        },
    }
