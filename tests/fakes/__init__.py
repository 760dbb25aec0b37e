"""Fakes for tests: a local HTTP server that speaks enough of the Anthropic and OpenAI APIs."""
