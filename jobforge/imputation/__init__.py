"""Attribute inheritance, O*NET profiles and LLM imputation, with provenance."""
