"""The admin panel's FastAPI app: ``auth``, ``api``, ``pages``, ``ws``, and the app factory,
errors and i18n. Depends on ``core/`` (the engine through its public modules only, never the
server or the adapters); ``core/`` never imports this."""
