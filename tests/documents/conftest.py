"""The API test fixtures (personas' clients) for the documents tests."""

from tests.api.conftest import client_for  # noqa: F401
