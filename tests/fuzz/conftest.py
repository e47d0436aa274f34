"""The fuzz runs against a database built like the web tests' (tests/web/conftest.py): the
spine municipality, users of every role and a bearer token each."""

from tests.web.conftest import app, auth, spine, tokens  # noqa: F401  (fixtures)
