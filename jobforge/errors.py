"""The one base of JobForge's domain errors: what went wrong, in words for the user.

Every error a service raises on purpose (bad input, an unknown role or release, a provider that
cannot be used, a store that cannot be reached) derives from :class:`JobForgeError`. Its ``message``
is one sentence written for the analyst; pages show it with ``st.error`` and the CLI prints it as
``error: <message>`` with a non-zero exit code. Anything else is a bug: pages show a short generic
message and log the traceback (see ``jobforge.ui.errors``).

The concrete errors keep a second, built-in base (``ValueError``, ``LookupError``,
``RuntimeError``) so callers that already catch those keep working.
"""

from __future__ import annotations


class JobForgeError(Exception):
    """A failure the user can act on; ``message`` says what happened and, where it helps, what to do."""

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__
