"""The plugin's engine: no HTTP in here (``web/`` depends on ``core/``, never the reverse)."""
