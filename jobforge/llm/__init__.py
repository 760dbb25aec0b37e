"""Provider clients (Anthropic, OpenAI): structured outputs, retries, usage and cost."""
