"""PySide6 widgets. Imports no torch and no task code (see the import-linter contracts)."""
