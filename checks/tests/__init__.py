"""The workshop's test suite: pytest files, the nbval plugins and ``wrong_variants/``."""
