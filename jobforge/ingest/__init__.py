"""Reading spreadsheets, column detection, validation and unique roles."""
