"""Web: FastAPI JSON API under /api/v1, Jinja2 + htmx pages, the one error table."""
