"""The GEP accounting engine: pure computation, no database, no web."""
