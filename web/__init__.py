"""The admin panel's FastAPI app. Depends on ``core/``; ``core/`` never imports this."""
