"""The WebSocket endpoints (live logs, engine events) and the registry of open
connections that a stop closes."""
