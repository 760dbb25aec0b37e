"""Keep API keys out of everything JobForge stores, logs, exports or shows.

A provider's error text may quote the request (some gateways echo the headers they received), so
any text made from a provider error goes through :func:`scrub` before it becomes a rationale, a
usage row, an attribute's details, a job's error or result, a log line or a page message.

:func:`scrub` removes
- every configured key (each ``SecretStr`` setting, e.g. ``ANTHROPIC_API_KEY``/``OPENAI_API_KEY``)
  and every key a client was built with (:func:`register_secret`, e.g. one typed on the Admin page);
- anything shaped like a key: ``sk-…``/``sk-ant-…`` tokens, ``Bearer …`` tokens, and the value of
  an ``x-api-key``/``api-key``/``authorization`` header or field, however it is quoted.

:func:`install_log_scrubbing` makes every log record (message, arguments, traceback) pass through
the same scrubber, whichever handler writes it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable

REDACTED = "[redacted]"
# Shorter "keys" are not replaced by value: scrubbing a 3-letter string everywhere would garble text.
MIN_SECRET_CHARS = 8
KEY_ENV_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "JOBFORGE_ANTHROPIC_API_KEY", "JOBFORGE_OPENAI_API_KEY")

# Group 1 of each shape is what stays (a header's name); the rest becomes [redacted].
_KEY_SHAPES = (
    # OpenAI (sk-…, sk-proj-…) and Anthropic (sk-ant-…) keys.
    re.compile(r"()\bsk-[A-Za-z0-9_\-]{8,}"),
    # Google-style keys.
    re.compile(r"()\bAIza[0-9A-Za-z_\-]{20,}"),
    # Bearer tokens, whatever the header is called.
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=\-]{4,}"),
    # The value of a key-carrying header or field: `x-api-key: v`, `"api_key": "v"`, `'authorization': 'v'`.
    re.compile(
        r"(?i)((?:x-api-key|x-goog-api-key|api[-_ ]?key|authorization|proxy-authorization)"
        r"[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])(?!bearer\s)((?:basic\s+|token\s+)?[^\s\"',;}\]]{4,})"
    ),
)

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a key in use (a client's, an Admin-typed one) so :func:`scrub` removes it by value."""
    if value and len(value.strip()) >= MIN_SECRET_CHARS:
        with _registered_lock:
            _registered.add(value.strip())


def configured_secrets() -> set[str]:
    """The keys in the settings (every ``SecretStr`` field), the key variables and the registered keys."""
    found = {os.environ.get(name, "").strip() for name in KEY_ENV_VARS}
    try:
        from pydantic import SecretStr

        from jobforge.config import get_settings

        settings = get_settings()
        for name in type(settings).model_fields:
            value = getattr(settings, name, None)
            if isinstance(value, SecretStr):
                found.add(value.get_secret_value().strip())
    except Exception:  # settings that cannot be read (bad .env) must not stop scrubbing the rest
        pass
    with _registered_lock:
        found |= _registered
    return {secret for secret in found if len(secret) >= MIN_SECRET_CHARS}


def scrub(text: object, secrets: Iterable[str] | None = None) -> str:
    """``text`` (any object, as ``str``) with keys and key-shaped values replaced by ``[redacted]``.

    ``secrets``: the exact values to remove (default: :func:`configured_secrets`).
    """
    cleaned = "" if text is None else str(text)
    if not cleaned:
        return cleaned
    # Longest first, so a key that contains another is removed whole.
    for secret in sorted(configured_secrets() if secrets is None else secrets, key=len, reverse=True):
        if secret and secret in cleaned:
            cleaned = cleaned.replace(secret, REDACTED)
    for shape in _KEY_SHAPES:
        cleaned = shape.sub(lambda m: m.group(1) + REDACTED, cleaned)
    return cleaned


def scrubbed_error(exc: BaseException) -> str:
    """``"<Type>: <message>"`` of an exception, scrubbed (for errors JobForge did not word itself)."""
    return scrub(f"{type(exc).__name__}: {exc}")


# -- logging -------------------------------------------------------------------------------------

_installed = False
_base_factory = logging.getLogRecordFactory()
# Reading the settings may itself log (python-dotenv warns about a bad .env line): such a record,
# made while another is being scrubbed, is scrubbed by key shape only instead of recursing.
_scrubbing = threading.local()


def _scrubbing_record_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed call to the logger: leave it for logging's own error report
        return record
    nested = getattr(_scrubbing, "active", False)
    secrets: Iterable[str] | None = () if nested else None
    _scrubbing.active = True
    try:
        record.msg, record.args = scrub(message, secrets), None
        if record.exc_info and record.exc_info[0] is not None:
            # The handler formats a cached exc_text as is: fill it, scrubbed, before any handler does.
            trace = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = scrub(trace, secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, secrets)
    finally:
        _scrubbing.active = nested
    return record


def install_log_scrubbing() -> None:
    """Scrub every log record from now on (idempotent; whichever logger or handler is used)."""
    global _installed, _base_factory
    if _installed:
        return
    _base_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_scrubbing_record_factory)
    _installed = True
