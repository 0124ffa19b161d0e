"""The admin server's lifecycle: bind, embedded uvicorn, listener hand-over
across a reload, the process stash. Knows no chats and no routes: it must not import
the engine, the store or ``web``."""
