"""The engine: who is served, when to speak, planning, scheduler, quiet hours,
prompt, journal and failure log. No HTTP and no AstrBot imports: it must not import
``web``, ``core.server`` or ``core.adapters``; AstrBot is reached through the ports in
``ports.py`` that ``core.adapters`` implement. ``engine.ProactiveEngine`` is composed of
mixins, one module per concern (``delivery``, ``restore``, ``admin``, ``views``...)."""
