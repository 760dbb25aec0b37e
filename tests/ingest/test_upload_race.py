"""Two uploads into the same roles at the same moment: both row-count increments are kept."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from jobforge.db.engine import session_factory
from jobforge.db.models import Role
from jobforge.ingest.uploads import create_upload
from jobforge.projects import create_project

CSV = b"Job Title,Headcount\nLine Cook,2\nLine Cook,3\nDishwasher,1\n"


def upload(session: Session, project_id: int, name: str) -> None:
    create_upload(session, project_id, name, CSV, None, "Job Title", {"headcount": "Headcount"}, [], "ann")


def test_two_concurrent_uploads_add_both_row_counts(engine: Engine) -> None:
    with session_factory(engine)() as session:
        project_id = create_project(session, "Kitchen", "ann").id
        upload(session, project_id, "first.csv")
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            with session_factory(engine)() as session:
                upload(session, project_id, "third.csv")
        except Exception as exc:  # the failure would be the finding
            outcome["error"] = exc

    other = threading.Thread(target=second)
    with session_factory(engine)() as session:

        @event.listens_for(session, "before_commit", once=True)
        def start_other(_session: Session) -> None:
            # This upload has read the roles' counts and added its own; its commit is next.
            other.start()
            other.join(timeout=0.3)

        upload(session, project_id, "second.csv")
    other.join(timeout=60)
    assert "error" not in outcome, outcome
    with session_factory(engine)() as session:
        roles = {r.title: (r.row_count, r.headcount) for r in session.scalars(select(Role))}
    assert roles == {"Line Cook": (6, 15.0), "Dishwasher": (3, 3.0)}
