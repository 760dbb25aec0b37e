"""Answers cached in ``llm_cache`` so that re-running a mapping costs nothing.

A key is the sha256 of everything that determines an answer: the normalised title, the
context, the candidate codes (in order), the provider and model, and the prompt version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from jobforge.db.models import LlmCache
from jobforge.llm.store import Store

# Keys per IN (...) query: well under SQLite's and Postgres' parameter limits.
_LOOKUP_CHUNK = 500


def cache_key(
    title_key: str,
    context: dict[str, str],
    candidate_codes: Sequence[str],
    provider: str,
    model: str,
    prompt_version: str,
) -> str:
    payload = {
        "title": title_key,
        "context": {k: " ".join(str(v).split()).casefold() for k, v in sorted(context.items()) if v},
        "candidates": list(candidate_codes),
        "provider": provider,
        "model": model,
        "prompt": prompt_version,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ResponseCache:
    """Cached answers in ``store`` (see :mod:`jobforge.llm.store` for who commits)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        with self.store.reading() as session:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                for row in session.scalars(select(LlmCache).where(LlmCache.key.in_(chunk))):
                    found[row.key] = row.response
        return found

    def get(self, key: str) -> dict[str, Any] | None:
        return self.get_many([key]).get(key)

    def put_many(self, provider: str, model: str, entries: dict[str, dict[str, Any]]) -> None:
        """Store answers in one statement; a key already cached (by another worker, say) is kept."""
        if not entries:
            return
        rows = [{"key": k, "provider": provider, "model": model, "response": v} for k, v in entries.items()]
        with self.store.writing() as session:
            dialect = session.get_bind().dialect.name
            if dialect in ("sqlite", "postgresql"):
                insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
                session.execute(insert(LlmCache).on_conflict_do_nothing(index_elements=["key"]), rows)
                return
            known = set(session.scalars(select(LlmCache.key).where(LlmCache.key.in_(list(entries)))))
            session.add_all(LlmCache(**row) for row in rows if row["key"] not in known)

    def put(self, key: str, provider: str, model: str, response: dict[str, Any]) -> None:
        self.put_many(provider, model, {key: response})
