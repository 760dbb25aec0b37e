"""Fixed, reproducible parts of a labelled file, by a hash of the lower-cased title.

Anything fitted on labelled titles (tier cut-offs, weights) is fitted on the ``FIT`` part and
reported on the ``REPORT`` part, so the reported figures are out-of-sample. The same title always
falls in the same part, whatever file or order it comes in (a title is grouped as
:func:`jobforge.evaluation.labels.title_group` does: trimmed, case-folded).

Buckets 0–9 (``title_bucket``): 0–4 are ``FIT``, 5–9 ``REPORT``. The learning-curve benchmark
uses buckets 8–9 as its "new" titles (inside ``REPORT``) and 0–7 as its "decided" titles.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from jobforge.evaluation.labels import title_group

FIT = "fit"
REPORT = "report"
Part = Literal["fit", "report"]
BUCKETS = 10


def title_bucket(title: str) -> int:
    """0–9: the title's bucket (SHA-256 of the grouped title, modulo 10)."""
    digest = hashlib.sha256(title_group(title).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def part_of(title: str) -> Part:
    """``"fit"`` for buckets 0–4, ``"report"`` for buckets 5–9."""
    return FIT if title_bucket(title) < BUCKETS // 2 else REPORT
