"""Let go of FastAPI's process-wide caches when the panel stops.

FastAPI memoizes facts about every endpoint function in module-level LRU caches
(up to 4,096 entries each), keyed by the function object itself. A hot reload
re-imports the plugin, so every reload brings new endpoint functions, and the
cache entries of the old ones would keep the previous instance's modules alive
(measured: about 0.4 MB per reload). Clearing the caches costs the host only a
recomputation on its next request; names that a FastAPI version lacks are skipped.
"""

from __future__ import annotations

import importlib

_CACHES = (
    ("fastapi.dependencies.models", "_is_gen_callable_cached"),
    ("fastapi.dependencies.models", "_is_async_gen_callable_cached"),
    ("fastapi.dependencies.models", "_is_coroutine_callable_cached"),
    ("fastapi._compat.v2", "get_cached_model_fields"),
)


def release_fastapi_caches() -> int:
    """Clear the caches that hold our endpoint functions; returns how many were cleared."""
    cleared = 0
    for module_name, name in _CACHES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        cache_clear = getattr(getattr(module, name, None), "cache_clear", None)
        if callable(cache_clear):
            cache_clear()
            cleared += 1
    return cleared
