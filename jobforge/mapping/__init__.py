"""Tiers, selectors (precedent, LLM, offline), batching and the mapping service."""
