"""Running a selector over labelled titles and keeping each title's ranked codes."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path

from jobforge.codebooks.vote import DecidedIndex, add_voted
from jobforge.evaluation.scoring import Prediction
from jobforge.mapping.selectors import RoleRequest, Selector
from jobforge.retrieval.index import CandidateIndex
from jobforge.retrieval.normalize import title_key

MAX_RANKS = 20


def ranked_codes(chosen: str | None, candidates: Iterable[str]) -> list[str]:
    """The selector's choice first, then the other candidates in retrieval order."""
    codes = [chosen] if chosen else []
    codes += [code for code in candidates if code and code != chosen]
    return codes[:MAX_RANKS]


def predict(
    titles: list[str],
    index: CandidateIndex,
    selector: Selector,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
    decided: DecidedIndex | None = None,
) -> list[Prediction]:
    """One prediction per title, same order. Candidates come from ``index`` (20 per title), plus
    the codes the nearest titles of ``decided`` vote for (the vote goes to the selector too)."""
    out: list[Prediction] = []
    for start in range(0, len(titles), batch_size):
        batch = titles[start : start + batch_size]
        votes = decided.votes(batch) if decided is not None else [None] * len(batch)
        requests = [
            RoleRequest(
                role_id=start + i,
                title=title,
                title_key=title_key(title),
                candidates=add_voted(index.candidates(title), vote, index.occupation),
                vote=vote,
            )
            for i, (title, vote) in enumerate(zip(batch, votes, strict=True))
        ]
        results = selector.select(requests)
        for request, result in zip(requests, results, strict=True):
            before = [c.code for c in request.candidates]
            # What the selector chose from: retrieval's candidates with any the model's readings added.
            after = [c["code"] for c in result.candidates] if result.candidates else before
            codes = ranked_codes(result.onet_code, after)
            out.append(Prediction(codes, str(result.confidence), before[:MAX_RANKS], after[:MAX_RANKS]))
        if progress:
            progress(len(batch))
    return out


def write_predictions(path: str | Path, titles: list[str], predictions: list[Prediction]) -> None:
    """``title,rank,code,tier`` with the tier on rank 1 only; a title with no code gets one empty row."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "rank", "code", "tier"])
        for title, prediction in zip(titles, predictions, strict=True):
            if not prediction.codes:
                writer.writerow([title, 1, "", prediction.tier])
            for rank, code in enumerate(prediction.codes[:MAX_RANKS], start=1):
                writer.writerow([title, rank, code, prediction.tier if rank == 1 else ""])
