"""Everything of the plugin that is not HTTP, one sub-package per part: ``engine`` (with its
``config``), ``store``, ``adapters`` (AstrBot), ``server`` (the admin server's lifecycle) and
``logs`` (the live-log pipeline); ``service`` wires store, engine and adapters. Nothing here
imports ``web`` or FastAPI/Starlette/pydantic (tests/unit/test_architecture.py)."""
