"""SQLite persistence of sessions, overrides and the journal. Imports the engine's
models only.

The loop side is ``session_store`` (``SessionStore``, the public API: batching,
flushing, back-off; with ``batch`` and ``journal_filter``). The worker thread that owns
the one connection is ``sqlite`` (``_Db``), over ``schema`` (tables and migrations),
``recovery`` (moving an unusable file aside), ``writes``, ``queries``, ``rows`` (value
conversions) and ``transaction``. ``errors`` holds ``StoreUnavailable`` and the advice
for each failure; ``legacy_import`` reads the 1.x JSON files once."""
