"""The engine: who is served, when to speak, planning, scheduler, quiet hours,
prompt, journal and failure log. No HTTP, no uvicorn, no AstrBot imports at module level:
it must not import ``web`` or ``core.server``; AstrBot is reached through the ports in
``ports.py`` that ``core.adapters`` implement."""
