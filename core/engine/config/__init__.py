"""The engine's config groups (``friend_settings``, ``group_settings``, ``engine_settings``).

Two readers over one table of fields (table.py: ``KIND_SPECS`` /
``ENGINE_SPEC``, the only place defaults live; a unit test holds
``_conf_schema.json`` to them), both built on the checks every config reader shares
(``core/config_checks.py``, through the field kinds in fields.py):

- lenient (``parse_plugin_config``, lenient.py): what AstrBot hands the plugin.
  Each bad value is reported once (path, value, the default used) and replaced;
  nothing raises, so no config can stop the plugin. Keys that are not ours are ignored.
- strict (``validate_override``, ``validate_config_update``, strict.py): what
  the admin API accepts. Every bad or unknown key is an error and nothing is saved.

Key names follow the 1.2.x config of the reference plugin, so its configs carry over.
This module is the one the rest of the plugin imports from.
"""

from __future__ import annotations

from .fields import MAX_PAUSE_SECONDS, MAX_REGEX_CHARS
from .lenient import (
    effective_settings,
    merge_override,
    normalize_engine_dict,
    normalize_kind_dict,
    parse_plugin_config,
    settings_from_dict,
)
from .strict import WEB_ADMIN_REFUSED, validate_config_update, validate_override
from .table import (
    GROUP_OF_KIND,
    MAX_MINUTES,
    MAX_PROMPT_CHARS,
    SCHEMA_GROUPS,
    engine_defaults,
    int_ranges,
    kind_defaults,
)

__all__ = [
    "GROUP_OF_KIND",
    "MAX_MINUTES",
    "MAX_PAUSE_SECONDS",
    "MAX_PROMPT_CHARS",
    "MAX_REGEX_CHARS",
    "SCHEMA_GROUPS",
    "WEB_ADMIN_REFUSED",
    "effective_settings",
    "engine_defaults",
    "int_ranges",
    "kind_defaults",
    "merge_override",
    "normalize_engine_dict",
    "normalize_kind_dict",
    "parse_plugin_config",
    "settings_from_dict",
    "validate_config_update",
    "validate_override",
]
