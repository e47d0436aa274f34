"""The web fixtures (app, clients, users, tokens, browsers) for the simulation tests here."""

from tests.web.conftest import app, auth, browser, client, spine, tokens  # noqa: F401
