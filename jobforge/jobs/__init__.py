"""Long work (mapping, imputation) as database-backed jobs with progress.

- ``queue``: enqueue / claim (``FOR UPDATE SKIP LOCKED`` on Postgres, a guarded update on SQLite) /
  heartbeat / finish / fail / cancel, and recovery of jobs whose worker died.
- ``registry``: job kind -> handler ``handler(engine, job, report) -> dict``; handlers commit per
  batch and are idempotent, so an interrupted job simply runs again and finishes what is left.
- ``worker``: ``Worker(engine).run_forever()`` (``python -m jobforge worker``) and
  ``ensure_background_worker(engine)`` (a daemon thread for the app on SQLite).
- ``map_job``: the "map" handler (``jobforge.mapping.service.map_roles`` with a resume cursor).
"""
