"""The public REST API (api.md): views stay thin over cases.services and cases.selectors."""
