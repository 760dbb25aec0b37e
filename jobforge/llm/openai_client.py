"""OpenAI through the official SDK (Chat Completions with strict JSON-schema structured outputs)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, TypeVar

import openai
from pydantic import BaseModel

from jobforge.llm.base import LLMError, Message, Usage
from jobforge.llm.client_base import RawAnswer, SDKClient
from jobforge.llm.json_schema import response_format_for

T = TypeVar("T", bound=BaseModel)
BATCH_ENDPOINT = "/v1/chat/completions"
FAILED_BATCH_STATUSES = {"failed", "expired", "cancelled", "cancelling"}


def reasoning_effort_for(model: str, setting: str) -> str | None:
    """The reasoning effort to send: "auto" means "low" for reasoning models (choosing among given
    candidates needs little thinking, and thinking tokens are billed), nothing for other models."""
    setting = (setting or "").strip().lower()
    if setting != "auto":
        return setting or None
    name = model.lower().rsplit("/", 1)[-1]
    is_reasoning = name.startswith("gpt-5") or (name[:1] == "o" and name[1:2].isdigit())
    return "low" if is_reasoning else None


@lru_cache(maxsize=64)
def _response_format(response_format: type[BaseModel]) -> Any:
    return response_format_for(response_format)  # costly: cached per model class


class OpenAIClient(SDKClient):
    provider = "openai"
    key_env = "OPENAI_API_KEY"

    def _make_sdk_client(self) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=self._api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=0,
            http_client=self._http_client,
        )

    def _sdk_module(self) -> Any:
        return openai

    def __init__(self, *args: Any, reasoning_effort: str = "auto", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reasoning_effort = reasoning_effort_for(self.model, reasoning_effort)

    def request_params(self, messages: list[Message], response_format: type[BaseModel]) -> dict[str, Any]:
        """The Chat Completions body for one call (also the body of an OpenAI Batch line)."""
        params = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "response_format": _response_format(response_format),
            "max_completion_tokens": self.max_output_tokens,
        }
        if self.reasoning_effort:
            params["reasoning_effort"] = self.reasoning_effort
        return params

    def _attempt(self, messages: list[Message], response_format: type[BaseModel]) -> RawAnswer:
        params = self.request_params(messages, response_format)
        completion = self._guarded(lambda: self.sdk.chat.completions.create(**params))
        return answer_from_completion(completion)

    # -- Batch API (a JSONL file of chat completion requests) ------------------------------------
    def submit_batch(self, requests: list[tuple[str, list[Message], type[BaseModel]]]) -> str:
        lines = [
            json.dumps({"custom_id": cid, "method": "POST", "url": BATCH_ENDPOINT, "body": self.request_params(m, f)})
            for cid, m, f in requests
        ]
        data = ("\n".join(lines) + "\n").encode()
        uploaded = self._with_retries(
            lambda: self.sdk.files.create(file=("jobforge-batch.jsonl", data, "application/jsonl"), purpose="batch")
        )
        batch = self._with_retries(
            lambda: self.sdk.batches.create(input_file_id=uploaded.id, endpoint=BATCH_ENDPOINT, completion_window="24h")
        )
        return batch.id

    def batch_status(self, batch_id: str) -> str:
        batch = self._with_retries(lambda: self.sdk.batches.retrieve(batch_id))
        if batch.status == "completed":
            return "ended"
        return "failed" if batch.status in FAILED_BATCH_STATUSES else "in_progress"

    def batch_results(self, batch_id: str, response_format: type[T]) -> dict[str, tuple[T, Usage] | LLMError]:
        batch = self._with_retries(lambda: self.sdk.batches.retrieve(batch_id))
        found: dict[str, tuple[T, Usage] | LLMError] = {}
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            text = self._with_retries(lambda fid=file_id: self.sdk.files.content(fid).text)
            for line in text.splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                response = item.get("response") or {}
                if response.get("status_code") == 200:
                    raw = answer_from_completion(response["body"])
                    found[item["custom_id"]] = self._batch_item(raw, response_format)
                else:
                    error = f"request failed in the batch (HTTP {response.get('status_code')})"
                    found[item["custom_id"]] = self._batch_item(None, response_format, error)
        return found


def answer_from_completion(completion: Any) -> RawAnswer:
    """Text, tokens and refusal of a ChatCompletion (an SDK object or its dict form)."""
    if isinstance(completion, dict):
        completion = openai.types.chat.ChatCompletion.model_validate(completion)
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice else None
    refusal = message.refusal if message is not None else None
    if choice is not None and choice.finish_reason == "content_filter":
        refusal = refusal or "content filter"
    usage = completion.usage
    return RawAnswer(
        text=message.content if message is not None else None,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
        refusal=refusal,
        truncated=choice is not None and choice.finish_reason == "length",
    )
