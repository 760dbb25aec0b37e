"""OpenAI through the official SDK (Chat Completions with strict JSON-schema structured outputs)."""

from __future__ import annotations

from typing import Any

import openai
from openai.lib._parsing._completions import type_to_response_format_param
from pydantic import BaseModel

from jobforge.llm.base import Message
from jobforge.llm.client_base import RawAnswer, SDKClient


class OpenAIClient(SDKClient):
    provider = "openai"
    key_env = "OPENAI_API_KEY"

    def _make_sdk_client(self) -> openai.OpenAI:
        return openai.OpenAI(api_key=self._api_key, base_url=self.base_url, timeout=self.timeout, max_retries=0)

    def _sdk_module(self) -> Any:
        return openai

    def request_params(self, messages: list[Message], response_format: type[BaseModel]) -> dict[str, Any]:
        """The Chat Completions body for one call (also the body of an OpenAI Batch line)."""
        return {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "response_format": type_to_response_format_param(response_format),
            "max_completion_tokens": self.max_output_tokens,
        }

    def _attempt(self, messages: list[Message], response_format: type[BaseModel]) -> RawAnswer:
        params = self.request_params(messages, response_format)
        completion = self._guarded(lambda: self.sdk.chat.completions.create(**params))
        return answer_from_completion(completion)


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
    )
