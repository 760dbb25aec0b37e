"""CSV / XLSX writers with provenance columns."""
