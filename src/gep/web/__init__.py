"""The web platform: FastAPI app factory, pages, static files; each domain brings its own router."""
