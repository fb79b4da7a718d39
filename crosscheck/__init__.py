"""InVEST cross-check helpers (datasets, InVEST runner). See README.md."""
