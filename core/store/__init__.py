"""SQLite persistence of sessions, overrides and the journal: the loop side
(``session_store``), the worker thread that owns the connection (``sqlite``) and the
one-off import of the legacy JSON file. Imports the engine's models only."""
