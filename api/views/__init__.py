"""The REST API's views, one module per topic (api/urls.py routes them)."""
