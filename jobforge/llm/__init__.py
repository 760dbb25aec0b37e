"""Provider clients (Anthropic, OpenAI): structured outputs, retries, usage and cost.

- ``base``: the ``LLMClient`` interface, ``Message``, ``Usage``, ``Availability``, ``LLMError``.
- ``factory``: ``make_client``, ``available_providers``, ``check_connection``.
- ``anthropic_client`` / ``openai_client``: the two SDK clients (plus their batch APIs);
  ``client_base``: what they share; ``retry``: backoff honouring Retry-After;
  ``structured``: lenient parsing of answers into Pydantic models.
- ``usage``: ``UsageRecorder`` and ``usage_summary``; ``cache``: ``ResponseCache``;
  ``tokens``: token and cost estimates.
"""
