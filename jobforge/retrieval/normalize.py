"""Title normalisation (placeholder; the retrieval work replaces it with the full rules).

``title_key`` drives de-duplication and precedent look-up: two titles with the same key are the
same role. The original title is always kept and shown.
"""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def title_key(title: str) -> str:
    return _NON_WORD.sub(" ", (title or "").casefold()).strip()
