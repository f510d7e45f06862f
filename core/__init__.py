"""What every app uses and no app owns: domain errors, identity data, problem details.

No models, and nothing of ours imported here (the import-linter contract in pyproject.toml).
"""
