"""Attribute inheritance, O*NET profiles and LLM imputation, with provenance.

- ``attributes``: the attribute model (a project's attribute columns, current values) and the
  precedence ANALYST > SOURCE > HIERARCHY > ONET > LLM.
- ``hierarchy``: values the role's job family / function agree on (HIERARCHY).
- ``profile``: the O*NET profile of an occupation, nearest rated relative for unrated ones (ONET).
- ``llm_imputation``: the structured LLM call for what is still empty (LLM).
- ``row_values``: what the rows of each upload hold per role (counts), the role's SOURCE value and
  agreement derived from them, and which columns are role requirements or vary by person.
- ``vocabulary``: O*NET's education/experience categories and job zones as attribute vocabularies,
  certain mappings of other spellings, values that contradict an occupation's O*NET profile.
- ``grid``: the role × attribute table the Attributes page shows; ``edits``: versioned edits and
  bulk set of its cells.
- ``overrides``: analysts' values (ANALYST), audited.
- ``service``: ``impute_project`` runs the steps in batches; ``cli`` and ``jobs`` call it.
- ``cost``: what the LLM step would cost before running it.
"""
