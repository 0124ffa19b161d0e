"""Page texts in Chinese and English, one module per page (``ZH``, ``EN``, ``JS_KEYS``).

``web/i18n.py`` merges them; a key may be defined by one module only (a unit test checks).
Conventions for page authors: docs/panel-pages.md.
"""
