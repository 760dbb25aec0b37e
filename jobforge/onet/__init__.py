"""O*NET releases: reading the official text layout, loading into the store, syncing."""
