"""Attribute inheritance, O*NET profiles and LLM imputation, with provenance.

- ``attributes``: the attribute model (a project's attribute columns, current values) and the
  precedence ANALYST > SOURCE > HIERARCHY > ONET > LLM.
- ``hierarchy``: values the role's job family / function agree on (HIERARCHY).
- ``profile``: the O*NET profile of an occupation, nearest rated relative for unrated ones (ONET).
- ``llm_imputation``: the structured LLM call for what is still empty (LLM).
- ``overrides``: analysts' values (ANALYST), audited.
- ``service``: ``impute_project`` runs the steps in batches; ``cli`` and ``jobs`` call it.
- ``cost``: what the LLM step would cost before running it.
"""
