"""O*NET releases: reading the official text layout, loading into the store, syncing.

- ``reader``: a release zip or folder (30.x and older layouts) -> checked tables.
- ``loader``: ``load_release(engine, path, ...)`` in one transaction, logged in the sync log.
- ``sync``: ``OnetSyncService`` (download from the official URL, then load) and ``load_default_release``.
- ``releases``: the releases kept, the active one, ``activate_release``, ``sync_status``.
- ``repository``: reading occupations of the active release (``OnetRepository``).
- ``cli``: ``python -m jobforge onet load | sync | status | activate`` and ``setup``.
"""
