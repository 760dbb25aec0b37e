"""Anthropic Claude through the official SDK (Messages API with a JSON-schema output format)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import anthropic
from pydantic import BaseModel

from jobforge.llm.base import LLMError, Message, Usage
from jobforge.llm.client_base import RawAnswer, SDKClient


def split_system(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """Anthropic takes the system prompt apart from the conversation."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    return system, [{"role": m.role, "content": m.content} for m in messages if m.role != "system"]


@lru_cache(maxsize=64)
def _schema(response_format: type[BaseModel]) -> dict[str, Any]:
    return anthropic.transform_schema(response_format)  # costly: cached per model class


def output_config(response_format: type[BaseModel]) -> dict[str, Any]:
    """Structured output: the answer must be JSON matching the Pydantic model's schema."""
    return {"format": {"type": "json_schema", "schema": _schema(response_format)}}


T = TypeVar("T", bound=BaseModel)


class AnthropicClient(SDKClient):
    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"

    def _make_sdk_client(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=self._api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=0,
            http_client=self._http_client,
        )

    def _sdk_module(self) -> Any:
        return anthropic

    def request_params(self, messages: list[Message], response_format: type[BaseModel]) -> dict[str, Any]:
        """The Messages API parameters for one call (also used for Message Batches requests)."""
        system, conversation = split_system(messages)
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "messages": conversation,
            "output_config": output_config(response_format),
        }
        if system:
            params["system"] = system
        return params

    def _attempt(self, messages: list[Message], response_format: type[BaseModel]) -> RawAnswer:
        params = self.request_params(messages, response_format)
        response = self._guarded(lambda: self.sdk.messages.create(**params))
        return answer_from_message(response)

    # -- Message Batches ----------------------------------------------------------------------
    def submit_batch(self, requests: list[tuple[str, list[Message], type[BaseModel]]]) -> str:
        body = [{"custom_id": cid, "params": self.request_params(msgs, fmt)} for cid, msgs, fmt in requests]
        return self._with_retries(lambda: self.sdk.messages.batches.create(requests=body)).id

    def batch_status(self, batch_id: str) -> str:
        batch = self._with_retries(lambda: self.sdk.messages.batches.retrieve(batch_id))
        return "ended" if batch.processing_status == "ended" else "in_progress"

    def batch_results(self, batch_id: str, response_format: type[T]) -> dict[str, tuple[T, Usage] | LLMError]:
        items = self._with_retries(lambda: list(self.sdk.messages.batches.results(batch_id)))
        found: dict[str, tuple[T, Usage] | LLMError] = {}
        for item in items:
            if item.result.type == "succeeded":
                found[item.custom_id] = self._batch_item(answer_from_message(item.result.message), response_format)
            else:
                found[item.custom_id] = self._batch_item(None, response_format, f"request {item.result.type}")
        return found


def answer_from_message(message: Any) -> RawAnswer:
    """Text, tokens and refusal of an Anthropic Message (an SDK object or its dict form)."""
    if isinstance(message, dict):
        message = anthropic.types.Message.model_validate(message)
    text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
    refusal = (text or "refused") if message.stop_reason == "refusal" else None
    return RawAnswer(
        text=text,
        input_tokens=message.usage.input_tokens if message.usage else 0,
        output_tokens=message.usage.output_tokens if message.usage else 0,
        refusal=refusal,
        truncated=message.stop_reason == "max_tokens",
    )
