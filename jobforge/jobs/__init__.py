"""Long work (mapping, imputation) as database-backed jobs with progress."""
