"""AstrBot adapters: the composer (the session's LLM, persona and history),
the sender (platform, segments, TTS) and the provider / platform lookups. The only
part of ``core`` that talks to AstrBot's context; must not import ``web`` or the server."""
