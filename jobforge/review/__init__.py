"""Confirm / override / bulk actions on mappings and attributes, with the audit log."""
