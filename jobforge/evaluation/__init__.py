"""Accuracy measurement on labelled titles (``python -m jobforge eval``)."""
