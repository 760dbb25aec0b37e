"""The fake LLM APIs without a socket: a ``MockTransport`` for the SDKs' ``http_client``.

The SDKs installed here (anthropic 2.x, openai 3.x) speak ``httpx2`` (httpx's API under a new
name) and refuse a plain ``httpx.Client``, so the transport is ``httpx2.MockTransport``.

For client/agent unit tests whose point is the answer (structured output, refusal, a truncated or
malformed answer), not HTTP: the same vendor modules parse the request and build the response as
:class:`fakes.llm_server.FakeLLMServer` does, with the same answerers and answer faults. Faults
that live at the HTTP level (rate limits, server errors, timeouts, rejected keys) and batches need
the real socket: use the server (the ``fake_llm_env`` fixture) for those.

    fake = FakeLLMTransport()
    fake.fail_next("refusal")
    client = make_client("openai", api_key="test-key", http_client=fake.http_client())
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

from fakes.anthropic_api import anthropic_call, anthropic_message
from fakes.llm_call import LLMCall
from fakes.llm_server import HTTP_FAULTS, Fault, apply_answer_fault, mapping_answer, reading_answer, schema_answer
from fakes.openai_api import openai_call, openai_completion


class FakeLLMTransport:
    """Answers ``POST …/messages`` (Anthropic) and ``POST …/chat/completions`` (OpenAI) in process.

    ``calls``: every model call as understood (read prompts and schemas from it); ``answerers``:
    as :attr:`FakeLLMServer.answerers` (first non-None answer wins).
    """

    def __init__(self) -> None:
        self.calls: list[LLMCall] = []
        self.answerers: list[Callable[[LLMCall], Any]] = [reading_answer, mapping_answer, schema_answer]
        self._faults: list[Fault] = []

    def fail_next(self, *faults: Fault | str) -> None:
        """Queue answer faults (refusal, malformed, truncated, drop_role, …) for the next calls."""
        queued = [Fault(f) if isinstance(f, str) else f for f in faults]
        http_level = [f.kind for f in queued if f.kind in HTTP_FAULTS]
        if http_level:
            raise ValueError(f"{http_level} are HTTP faults: use FakeLLMServer (the fake_llm_env fixture)")
        self._faults.extend(queued)

    def http_client(self) -> httpx2.Client:
        """An httpx2 client for the SDK's ``http_client`` argument, answered by this fake."""
        return httpx2.Client(transport=httpx2.MockTransport(self.handle))

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.method != "POST" or not path.endswith(("/messages", "/chat/completions")):
            return httpx2.Response(404, json={"error": {"message": f"no route {path} without a socket"}})
        body = json.loads(request.content or b"{}")
        anthropic = path.endswith("/messages")
        call = anthropic_call(body) if anthropic else openai_call(body)
        self.calls.append(call)
        fault = self._faults.pop(0) if self._faults else None
        answer = next((a for a in (answerer(call) for answerer in self.answerers) if a is not None), None)
        text, refused = apply_answer_fault(fault, call, answer)
        truncated = fault is not None and fault.kind == "truncated"
        build = anthropic_message if anthropic else openai_completion
        return httpx2.Response(200, json=build(call, text, refused, truncated))
