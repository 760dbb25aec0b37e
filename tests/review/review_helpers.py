"""Moved to tests/factories.py. Kept only while other branches still import it from here; the lead
deletes this file once they are merged (new tests import ``tests.factories``)."""

from tests.factories import PROPOSALS, SCORES, ReviewProject, make_review_project
from tests.factories import REVIEW_CSV as CSV

__all__ = ["CSV", "PROPOSALS", "SCORES", "ReviewProject", "make_review_project"]
