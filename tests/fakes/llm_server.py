"""A fake Anthropic + OpenAI HTTP server on 127.0.0.1 for the real SDK clients.

It speaks enough of both APIs for ``anthropic.Anthropic`` and ``openai.OpenAI`` pointed at it with
``base_url``: Anthropic ``POST /v1/messages`` and Message Batches (``/v1/messages/batches``…),
OpenAI ``POST /v1/chat/completions``, ``/v1/files`` and ``/v1/batches``.

Answers come FROM THE REQUEST: every model call is turned into an :class:`LLMCall` (system text,
user text, requested JSON schema) and offered to ``server.answerers`` in order; the first one that
returns something (a dict/list, dumped as JSON, or a str sent as is) wins. The built-in answerers:

- :func:`reading_answer`: for a reading prompt, the titles scripted in ``server.readings``;
- :func:`mapping_answer`: for a role-mapping prompt (a ``<roles>`` JSON block), picks each role's
  first candidate code with tier HIGH (a candidate from the model's reading first; "not codable"
  as scripted in ``server.not_codable``);
- :func:`schema_answer`: for anything else with a JSON schema, a minimal instance of the schema.

Other tests add their own answerer in front (``server.answerers.insert(0, fn)``), e.g. imputation.

Faults: ``server.fail_next(fault, ...)`` queues faults for the next model calls (one per call,
in order); ``server.fail_when(predicate, fault, times=None)`` applies a fault to every call the
predicate accepts (useful with concurrent calls). Fault kinds: see :class:`Fault`.

``server.answer_delay`` makes every model call take that long, and ``server.max_in_flight`` says
how many were in flight at once (to check concurrency limits). Every request is recorded (``server.requests``; model calls also in ``server.calls``) so tests can
count calls and read prompts. Usage is reported with the product's own token rule
(:func:`jobforge.llm.tokens.estimate_tokens`).

This module is the shared core (answers, faults, HTTP dispatch); each API's request parsing and
response shapes live in :mod:`fakes.anthropic_api` and :mod:`fakes.openai_api`, the call both
understand in :mod:`fakes.llm_call`.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakes import anthropic_api, openai_api
from fakes.anthropic_api import anthropic_call, anthropic_message
from fakes.llm_call import FakeBatch, LLMCall, input_tokens
from fakes.openai_api import openai_call, openai_completion

# Names tests import from here (the vendor modules and fakes.llm_call hold them now).
__all__ = [
    "FakeLLMServer", "Fault", "LLMCall", "RecordedRequest", "anthropic_call", "anthropic_message", "echo_headers",
    "input_tokens", "mapping_answer", "openai_call", "openai_completion", "rate_limit", "reading_answer",
    "schema_answer", "server_error", "timeout",
]

SECRET_HEADERS = ("x-api-key", "authorization")


@dataclass
class Fault:
    """What goes wrong with one call.

    kinds: ``rate_limit`` (429 with Retry-After ``retry_after``), ``server_error`` (``status``,
    default 500), ``timeout`` (sleep ``seconds`` before answering), ``malformed`` (not JSON),
    ``invented_code`` (role ``role`` gets a code that was not among its candidates), ``drop_role``,
    ``reorder`` (answers in reverse order), ``extra_role`` (an unknown id added), ``rename_role``
    (role ``role`` answered under another id), ``refusal``, ``fenced`` (JSON inside a Markdown
    fence), ``bare_array`` (the list without its wrapping object), ``auth`` (401), ``forbidden``
    (403), ``unknown_model`` (404 naming the model), ``quota`` (OpenAI: 429 ``insufficient_quota``;
    Anthropic: 400 "credit balance is too low"), ``truncated`` (cut off at the output-token cap:
    stop_reason max_tokens / finish_reason length), ``echo_headers`` (HTTP ``status`` whose error
    message quotes the request headers, API key first, as some gateways do: see :func:`echo_headers`).
    """

    kind: str
    retry_after: float | None = None
    status: int = 500
    seconds: float = 5.0
    role: int = 0


def rate_limit(retry_after: float | None = 0) -> Fault:
    return Fault("rate_limit", retry_after=retry_after)


def server_error(status: int = 500) -> Fault:
    return Fault("server_error", status=status)


def timeout(seconds: float = 5.0) -> Fault:
    return Fault("timeout", seconds=seconds)


def echo_headers(status: int = 400) -> Fault:
    """An error whose text repeats the request headers (the API key included)."""
    return Fault("echo_headers", status=status)


HTTP_FAULTS = {
    "rate_limit", "server_error", "timeout", "auth", "echo_headers", "forbidden", "unknown_model", "quota"
}


# --------------------------------------------------------------------------------------------
# Default answerers
# --------------------------------------------------------------------------------------------


def _asks_for(call: LLMCall, field_name: str) -> bool:
    """Whether the call's answer schema has this top-level field (mapping: "mappings", readings: "readings")."""
    if not call.schema:
        return field_name == "mappings" and "<roles>" in call.user  # a prompt without a schema (old paths)
    return field_name in (call.schema.get("properties") or {})


def mapping_answer(call: LLMCall, not_codable: dict[str, dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """Each role of a mapping prompt gets its first candidate, tier HIGH, or the first candidate found
    from the model's reading (a model picks what it read). ``not_codable``: titles (casefolded) the model
    finds no candidate for, answered code null with {"reading", "major_group"}, unless a candidate from
    that reading is offered (and "always" is not set)."""
    roles = call.roles
    if not _asks_for(call, "mappings"):
        return None
    mappings = []
    for role in roles:
        candidates = role.get("candidates") or []
        from_reading = [c for c in candidates if len(c) > 2 and str(c[2]).startswith("from the model's reading")]
        code = (from_reading or candidates or [[None]])[0][0]
        answer = {"id": role["id"], "code": code, "tier": "HIGH" if code else "LOW", "rationale": "Closest candidate."}
        script = (not_codable or {}).get(str(role.get("title", "")).casefold())
        if script is not None and (script.get("always") or not from_reading):
            answer.update(code=None, tier="LOW", rationale="None of the candidates fits.")
            answer.update(reading=script.get("reading"), major_group=script.get("major_group"))
        mappings.append(answer)
    return {"mappings": mappings}


def reading_answer(call: LLMCall, readings: dict[str, list[str]] | None = None) -> dict[str, Any] | None:
    """Each role of a reading prompt gets the titles scripted for it (by casefolded title), else none."""
    if not _asks_for(call, "readings"):
        return None
    scripted = readings or {}
    return {
        "readings": [
            {"id": role["id"], "titles": list(scripted.get(str(role.get("title", "")).casefold(), []))}
            for role in call.roles
        ]
    }


def schema_answer(call: LLMCall) -> Any:
    """A minimal instance of the requested JSON schema (or {"ok": true} without one)."""
    if not call.schema:
        return {"ok": True}
    return _instance(call.schema, call.schema)


def _instance(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return _instance((root.get("$defs") or root.get("definitions") or {})[name], root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return _instance(schema[key][0], root)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {name: _instance(sub, root) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "string":
        return "x"
    return None


# --------------------------------------------------------------------------------------------
# Faults applied to an answer
# --------------------------------------------------------------------------------------------


def apply_answer_fault(fault: Fault | None, call: LLMCall, answer: Any) -> tuple[str, bool]:
    """The answer text after ``fault``, and whether it is a refusal."""
    if fault is None:
        return (answer if isinstance(answer, str) else json.dumps(answer)), False
    if fault.kind == "refusal":
        return "I can't help with that.", True
    if fault.kind in ("malformed", "truncated"):
        return '{"mappings": [{"id": "r1", "code": ', False
    answer = copy.deepcopy(answer)
    mappings = answer.get("mappings", []) if isinstance(answer, dict) else []
    index = min(fault.role, len(mappings) - 1) if mappings else 0
    if fault.kind == "invented_code" and mappings:
        mappings[index]["code"] = "99-9999.99"
    elif fault.kind == "drop_role" and mappings:
        mappings.pop(index)
    elif fault.kind == "reorder":
        mappings.reverse()
    elif fault.kind == "extra_role":
        mappings.append({"id": "r999", "code": None, "tier": "LOW", "rationale": "Extra."})
    elif fault.kind == "rename_role" and mappings:
        mappings[index]["id"] = "role-" + str(mappings[index]["id"])
    elif fault.kind == "fenced":
        return "Here you go:\n```json\n" + json.dumps(answer) + "\n```", False
    elif fault.kind == "bare_array":
        return json.dumps(mappings), False
    return json.dumps(answer), False


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Rule:
    predicate: Callable[[LLMCall], bool]
    fault: Fault
    times: int | None


class FakeLLMServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[RecordedRequest] = []
        self.calls: list[LLMCall] = []
        # Scripted readings ("Member of Technical Staff" -> ["Software Developers"]) and "not codable"
        # answers, by title (any case); see reading_answer and mapping_answer.
        self.readings: dict[str, list[str]] = {}
        self.not_codable: dict[str, dict[str, Any]] = {}
        self.answerers: list[Callable[[LLMCall], Any]] = [
            lambda call: reading_answer(call, {k.casefold(): v for k, v in self.readings.items()}),
            lambda call: mapping_answer(call, {k.casefold(): v for k, v in self.not_codable.items()}),
            schema_answer,
        ]
        self.require_key = True
        self.rejected_keys: set[str] = set()  # keys answered with 401 on every request (a revoked key)
        # Seconds every model call takes (to observe concurrency); in_flight/max_in_flight count them.
        self.answer_delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        # How many status checks a batch reports "in progress" before it ends.
        self.batch_polls_before_done = 1
        # The next N provider batches created expire instead of answering.
        self.expire_next_batches = 0
        self._faults: list[Fault] = []
        self._rules: list[_Rule] = []
        self._batches: dict[str, FakeBatch] = {}
        self._files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    def start(self) -> FakeLLMServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- configuration --------------------------------------------------------------------
    def fail_next(self, *faults: Fault | str) -> None:
        """Queue faults for the next model calls, one per call."""
        with self._lock:
            self._faults.extend(Fault(f) if isinstance(f, str) else f for f in faults)

    def fail_when(self, predicate: Callable[[LLMCall], bool], fault: Fault | str, times: int | None = None) -> None:
        """Apply ``fault`` to calls ``predicate`` accepts (``times`` calls at most; None = always)."""
        with self._lock:
            self._rules.append(_Rule(predicate, Fault(fault) if isinstance(fault, str) else fault, times))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.calls.clear()
            self._faults.clear()
            self._rules.clear()

    def model_calls(self, api: str | None = None, batch: bool | None = False) -> list[LLMCall]:
        """Model calls made (by default the direct ones, not those inside batch jobs)."""
        with self._lock:
            return [c for c in self.calls if (api is None or c.api == api) and (batch is None or c.batch == batch)]

    # -- answering ------------------------------------------------------------------------
    def _next_fault(self, call: LLMCall) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if (rule.times is None or rule.times > 0) and rule.predicate(call):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.fault
            return self._faults.pop(0) if self._faults else None

    def answer(self, call: LLMCall) -> tuple[Fault | None, str, bool]:
        """(fault, answer text, refused) for one model call; records the call."""
        with self._lock:
            self.calls.append(call)
        fault = self._next_fault(call)
        if fault is not None and fault.kind in HTTP_FAULTS:
            return fault, "", False
        result = None
        for answerer in list(self.answerers):
            result = answerer(call)
            if result is not None:
                break
        text, refused = apply_answer_fault(fault, call, result)
        return fault, text, refused

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}{uuid.uuid4().hex[:8]}"

    def sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


def _make_handler(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # keep test output clean
            pass

        # -- plumbing ---------------------------------------------------------------------
        def _body(self) -> bytes:
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(
            self, status: int, payload: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
        ) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json" if raw is None else "application/octet-stream")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _error(
            self, api: str, status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None
        ) -> None:
            if api == "anthropic":
                payload = anthropic_api.error_payload(status, message)
            else:
                payload = openai_api.error_payload(status, message, code)
            self._send(status, payload, headers)

        def _authorised(self, api: str) -> bool:
            if not server.require_key:
                return True
            # Anthropic SDKs send x-api-key or (2.x) a bearer token; OpenAI a bearer token.
            key = self.headers.get("x-api-key") or self.headers.get("authorization", "").replace("Bearer", "")
            if key.strip() and key.strip() not in server.rejected_keys:
                return True
            self._error(api, 401, "missing API key")
            return False

        def _record(self, body: Any) -> None:
            with server._lock:
                server.requests.append(RecordedRequest(self.command, self.path, dict(self.headers), body))

        # -- routing ----------------------------------------------------------------------
        def do_POST(self) -> None:
            raw = self._body()
            path = self.path.split("?")[0]
            api = "anthropic" if path.startswith("/v1/messages") else "openai"
            if path == "/v1/files":
                self._record(None)
                if self._authorised(api):
                    self._upload_file(raw)
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._record(raw)
                self._error(api, 400, "invalid JSON body")
                return
            self._record(body)
            if not self._authorised(api):
                return
            if path == "/v1/messages":
                self._model_call(anthropic_call(body), "anthropic")
            elif path == "/v1/chat/completions":
                self._model_call(openai_call(body), "openai")
            elif path == "/v1/messages/batches":
                self._create_anthropic_batch(body)
            elif path == "/v1/batches":
                self._create_openai_batch(body)
            else:
                self._error(api, 404, f"no route {path}")

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            self._record(None)
            api = "anthropic" if path.startswith("/v1/messages") else "openai"
            if not self._authorised(api):
                return
            parts = path.strip("/").split("/")
            if path.startswith("/v1/messages/batches/") and path.endswith("/results"):
                self._anthropic_results(parts[3])
            elif path.startswith("/v1/messages/batches/"):
                self._anthropic_batch_status(parts[3])
            elif path.startswith("/v1/batches/"):
                self._openai_batch_status(parts[2])
            elif path.startswith("/v1/files/") and path.endswith("/content"):
                data = server._files.get(parts[2])
                if data is None:
                    self._error(api, 404, "no such file")
                else:
                    self._send(200, None, raw=data)
            else:
                self._error(api, 404, f"no route {path}")

        # -- model calls ------------------------------------------------------------------
        def _model_call(self, call: LLMCall, api: str) -> None:
            with server._lock:
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
            try:
                if server.answer_delay:
                    server.sleep(server.answer_delay)
                self._answer_model_call(call, api)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _answer_model_call(self, call: LLMCall, api: str) -> None:
            fault, text, refused = server.answer(call)
            if fault is not None and fault.kind == "rate_limit":
                headers = {} if fault.retry_after is None else {"retry-after": f"{fault.retry_after:g}"}
                self._error(api, 429, "rate limited", headers)
            elif fault is not None and fault.kind == "server_error":
                self._error(api, fault.status, "internal error")
            elif fault is not None and fault.kind == "auth":
                self._error(api, 401, "invalid API key")
            elif fault is not None and fault.kind == "echo_headers":
                secret_first = sorted(self.headers.items(), key=lambda kv: kv[0].lower() not in SECRET_HEADERS)
                echoed = "; ".join(f"{name}: {value}" for name, value in secret_first)
                self._error(api, fault.status, f"bad request, headers received: {echoed}")
            elif fault is not None and fault.kind == "forbidden":
                self._error(api, 403, "this key may not use this model", code="permission_denied")
            elif fault is not None and fault.kind == "unknown_model":
                self._error(api, 404, f"model: {call.model}", code="model_not_found")
            elif fault is not None and fault.kind == "quota" and api == "openai":
                self._error(api, 429, "You exceeded your current quota.", code="insufficient_quota")
            elif fault is not None and fault.kind == "quota":
                self._error(api, 400, "Your credit balance is too low to access the Anthropic API.")
            elif fault is not None and fault.kind == "timeout":
                server.sleep(fault.seconds)
                self._error(api, 504, "too slow")
            else:
                truncated = fault is not None and fault.kind == "truncated"
                build = anthropic_message if api == "anthropic" else openai_completion
                self._send(200, build(call, text, refused, truncated))

        def _batch_item(self, api: str, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
            call = anthropic_call(params, batch=True) if api == "anthropic" else openai_call(params, batch=True)
            fault, text, refused = server.answer(call)
            failure = fault.kind if fault is not None and fault.kind in HTTP_FAULTS else None
            if api == "anthropic":
                message = None if failure else anthropic_message(call, text, refused)
                return anthropic_api.batch_item(custom_id, message, failure)
            completion = None if failure else openai_completion(call, text, refused)
            return openai_api.batch_item(server.new_id("batch_req_"), custom_id, completion, failure)

        def _advance(self, batch: FakeBatch) -> None:
            """Each status check moves a batch on; when done, its results are computed."""
            if batch.done:
                return
            if batch.polls_left > 0:
                batch.polls_left -= 1
                return
            if batch.expired:
                batch.results = anthropic_api.expired_items(batch) if batch.api == "anthropic" else []
                batch.done = True
                return
            batch.results = [self._batch_item(batch.api, cid, params) for cid, params in batch.items]
            batch.done = True
            if batch.api == "openai":
                batch.output_file_id = server.new_id("file-")
                server._files[batch.output_file_id] = "\n".join(json.dumps(r) for r in batch.results).encode() + b"\n"

        def _maybe_expire(self, batch: FakeBatch) -> None:
            with server._lock:
                if server.expire_next_batches > 0:
                    server.expire_next_batches -= 1
                    batch.expired = True

        # -- Anthropic Message Batches --------------------------------------------------------
        def _anthropic_batch_json(self, batch: FakeBatch) -> dict[str, Any]:
            return anthropic_api.batch_json(batch, server.url)

        def _create_anthropic_batch(self, body: dict[str, Any]) -> None:
            items = [(r["custom_id"], r["params"]) for r in body.get("requests", [])]
            batch = FakeBatch(
                "anthropic", server.new_id("msgbatch_"), datetime.now(UTC), items, server.batch_polls_before_done
            )
            server._batches[batch.id] = batch
            self._maybe_expire(batch)
            self._send(200, self._anthropic_batch_json(batch))

        def _anthropic_batch_status(self, batch_id: str) -> None:
            batch = server._batches.get(batch_id)
            if batch is None:
                self._error("anthropic", 404, "no such batch")
                return
            self._advance(batch)
            self._send(200, self._anthropic_batch_json(batch))

        def _anthropic_results(self, batch_id: str) -> None:
            batch = server._batches.get(batch_id)
            if batch is None or not batch.done:
                self._error("anthropic", 404, "no results yet")
                return
            self._send(200, None, raw="\n".join(json.dumps(r) for r in batch.results).encode() + b"\n")

        # -- OpenAI files and batches -----------------------------------------------------------
        def _upload_file(self, raw: bytes) -> None:
            message = BytesParser(policy=HTTP).parsebytes(
                f"content-type: {self.headers.get('content-type')}\r\n\r\n".encode() + raw
            )
            content, filename, purpose = b"", "upload.jsonl", "batch"
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name == "file":
                    content = part.get_payload(decode=True) or b""
                    filename = part.get_filename() or filename
                elif name == "purpose":
                    purpose = (part.get_payload(decode=True) or b"batch").decode()
            file_id = server.new_id("file-")
            server._files[file_id] = content
            self._send(200, openai_api.file_json(file_id, content, filename, purpose))

        def _create_openai_batch(self, body: dict[str, Any]) -> None:
            data = server._files.get(body.get("input_file_id", ""))
            if data is None:
                self._error("openai", 400, "unknown input_file_id")
                return
            lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
            items = [(line["custom_id"], line["body"]) for line in lines]
            batch = FakeBatch("openai", server.new_id("batch_"), datetime.now(UTC), items, server.batch_polls_before_done)
            batch.input_file_id = body["input_file_id"]
            server._batches[batch.id] = batch
            self._maybe_expire(batch)
            self._send(200, openai_api.batch_json(batch, body.get("endpoint", "/v1/chat/completions")))

        def _openai_batch_status(self, batch_id: str) -> None:
            batch = server._batches.get(batch_id)
            if batch is None:
                self._error("openai", 404, "no such batch")
                return
            self._advance(batch)
            self._send(200, openai_api.batch_json(batch))

    return Handler
