"""Inter-coder agreement between a first decision and a blind second opinion, per O*NET-SOC digit level.

Two coders agree at a level when their codes share the level's prefix:

======  ==========================================  ===================  ==================
digits  what it is                                  prefix compared      example
======  ==========================================  ===================  ==================
2       SOC major group                             first 2 characters   ``15``
3       SOC minor group                             first 4 characters   ``15-1``
6       SOC detailed occupation                     first 7 characters   ``15-1252``
8       O*NET-SOC occupation                        all 10 characters    ``15-1252.00``
======  ==========================================  ===================  ==================

The 3-digit level compares the major group and the first digit after the hyphen. In SOC 2018
that digit names one minor group (``15-1`` is 15-1200 Computer Occupations; the few minor groups
whose code ends in 100 or 200, such as 31-1100 and 51-5100, are the only one under their prefix).

For each level we report the *share agreeing* (observed agreement) and *Cohen's κ*, which corrects
that share for the agreement two coders would reach by chance given how often each used each
category (computed by scikit-learn's ``cohen_kappa_score``). A second opinion of "cannot code" is a
category of its own: it disagrees with every code. κ is *not defined* when nothing has been
answered, or when both coders used one and the same category for every role (chance agreement is
then 1 and κ would be 0/0); the report says so instead of giving NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobforge.db.models import SecondOpinionItem, SecondOpinionSample

CANNOT_CODE = "cannot code"
NOT_DEFINED = "not defined"


@dataclass(frozen=True)
class Level:
    digits: int  # 2, 3, 6 or 8 digits of the O*NET-SOC code
    name: str  # what the level is in SOC terms
    width: int  # characters of "15-1252.00" compared
    example: str  # the prefix compared for 15-1252.00

    def prefix(self, code: str | None) -> str:
        """The part of ``code`` compared at this level; ``CANNOT_CODE`` for a role that was not coded."""
        return code[: self.width] if code else CANNOT_CODE


LEVELS: tuple[Level, ...] = (
    Level(2, "major group", 2, "15"),
    Level(3, "minor group", 4, "15-1"),
    Level(6, "detailed occupation", 7, "15-1252"),
    Level(8, "O*NET-SOC occupation", 10, "15-1252.00"),
)
FULL_CODE = LEVELS[-1]


@dataclass(frozen=True)
class LevelAgreement:
    """Agreement at one level over ``compared`` roles coded twice.

    ``share`` and ``kappa`` are None when not defined; ``note`` then says why.
    """

    level: Level
    compared: int
    agreeing: int
    share: float | None
    kappa: float | None
    note: str | None = None

    @property
    def share_text(self) -> str:
        return NOT_DEFINED if self.share is None else f"{self.share:.0%}"

    @property
    def kappa_text(self) -> str:
        return NOT_DEFINED if self.kappa is None else f"{self.kappa:.2f}"


def agreement_at(level: Level, pairs: Sequence[tuple[str, str | None]]) -> LevelAgreement:
    """Share agreeing and Cohen's κ at ``level`` for (first code, second code or None) pairs."""
    if not pairs:
        return LevelAgreement(level, 0, 0, None, None, "no second opinions yet")
    first = [level.prefix(a) for a, _ in pairs]
    second = [level.prefix(b) for _, b in pairs]
    agreeing = sum(a == b for a, b in zip(first, second, strict=True))
    share = agreeing / len(pairs)
    categories = sorted(set(first) | set(second))
    if len(categories) == 1:
        # Both coders put every role in the same category: chance agreement is 1 and κ is 0/0.
        note = f"both coders put every role in {categories[0]}"
        return LevelAgreement(level, len(pairs), agreeing, share, None, note)
    kappa = float(cohen_kappa_score(first, second, labels=categories))
    return LevelAgreement(level, len(pairs), agreeing, share, kappa)


def agreement_table(pairs: Sequence[tuple[str, str | None]]) -> list[LevelAgreement]:
    """:func:`agreement_at` for 2, 3, 6 and 8 digits."""
    return [agreement_at(level, pairs) for level in LEVELS]


@dataclass(frozen=True)
class AgreementReport:
    """Inter-coder agreement of a project's second opinions (one sample or all), before and after adjudication.

    ``levels`` compare each first decision with the blind second opinion (before adjudication).
    Disagreements are counted at 8 digits; of those, ``kept_first`` / ``took_second`` /
    ``chose_other`` were settled by a third person and ``waiting`` are not yet.
    """

    sampled: int  # roles in the sample(s)
    answered: int  # roles the second coder has answered
    cannot_code: int  # answered "cannot code"
    levels: list[LevelAgreement]
    disagreements: int
    kept_first: int
    took_second: int
    chose_other: int

    @property
    def unanswered(self) -> int:
        return self.sampled - self.answered

    @property
    def adjudicated(self) -> int:
        return self.kept_first + self.took_second + self.chose_other

    @property
    def waiting(self) -> int:
        return self.disagreements - self.adjudicated

    @property
    def first_standing(self) -> int:
        """First decisions that stand after adjudication: agreed by the second coder, or kept by the third."""
        return self.answered - self.disagreements + self.kept_first


def agreement_report(session: Session, project_id: int, sample_id: int | None = None) -> AgreementReport:
    """The agreement of the project's second opinions (of one sample when ``sample_id`` is given)."""
    query = (
        select(
            SecondOpinionItem.first_code,
            SecondOpinionItem.second_code,
            SecondOpinionItem.answered_at.is_not(None),
            SecondOpinionItem.adjudication,
        )
        .join(SecondOpinionSample, SecondOpinionSample.id == SecondOpinionItem.sample_id)
        .where(SecondOpinionSample.project_id == project_id)
    )
    if sample_id is not None:
        query = query.where(SecondOpinionSample.id == sample_id)
    rows = session.execute(query).all()
    pairs = [(first, second) for first, second, answered, _ in rows if answered]
    settled = [adjudication for *_, adjudication in rows if adjudication]
    return AgreementReport(
        sampled=len(rows),
        answered=len(pairs),
        cannot_code=sum(second is None for _, second in pairs),
        levels=agreement_table(pairs),
        disagreements=sum(FULL_CODE.prefix(a) != FULL_CODE.prefix(b) for a, b in pairs),
        kept_first=settled.count("first"),
        took_second=settled.count("second"),
        chose_other=settled.count("other"),
    )
