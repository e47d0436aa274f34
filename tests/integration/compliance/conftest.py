"""The web fixtures (app, clients, users of every role, bearer tokens) for the compliance
API tests in this folder."""

from tests.web.conftest import app, auth, client, spine, tokens  # noqa: F401
