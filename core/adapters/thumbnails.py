"""A small thumbnail of a proactive message's picture, for the panel's journal.

The panel's pages allow images from themselves and ``data:`` URIs only, so the
journal keeps a thumbnail of at most ``THUMB_PIXELS`` a side as a JPEG ``data:`` URI
(a few KB). Pictures given as ``base64://`` or a local file get one; a URL does not
(fetching it would be another request to a third party). Never raises.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..constants import LOG_PREFIX
from ..plugin_log import logger

THUMB_PIXELS = 96
MAX_SOURCE_BYTES = 20 * 1024 * 1024


def thumbnail_data_uri(ref: str) -> str:
    """``data:image/jpeg;base64,...`` of the picture, or "" (a URL, unreadable, too big)."""
    try:
        raw = _picture_bytes(ref)
        if not raw:
            return ""
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            image.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=70)
        return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    except Exception as exc:  # a thumbnail is a nicety: never a failure
        logger.debug("%s No thumbnail for a picture: %s", LOG_PREFIX, exc)
        return ""


def _picture_bytes(ref: str) -> bytes:
    if ref.startswith("base64://"):
        data = ref.removeprefix("base64://")
        if len(data) > MAX_SOURCE_BYTES * 4 // 3 + 4:
            return b""
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return b""
    if ref.startswith("file://"):
        path = Path(unquote(urlparse(ref).path))
        if path.is_file() and path.stat().st_size <= MAX_SOURCE_BYTES:
            return path.read_bytes()
    return b""
