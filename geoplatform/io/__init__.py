"""Import and export of files: formats, coordinate systems, validation, reports."""
