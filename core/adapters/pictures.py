"""Finding image tools among AstrBot's registered tools, and asking the model for a picture.

A tool is an image tool when its name or description speaks of making pictures
(``IMAGE_WORDS``), unless it is on the exclude list; the include list adds tools the
words miss. Only tools that exist are used, so a stale name in a list is harmless
(the Overview warns about it).
"""

from __future__ import annotations

import re
from typing import Any

from ..engine.models import PictureSettings

# English and Chinese words for making a picture; matched in the tool's name and description.
IMAGE_WORDS = re.compile(
    r"image|picture|photo|drawing|\bdraw|paint|illustrat|text2img|txt2img|t2i\b|"
    r"dall-?e|stable.?diffusion|midjourney|flux|生图|画图|绘图|绘画|作画|图片|图像|配图|插画",
    re.IGNORECASE,
)
# Image *readers* (describe, OCR, search) are not image makers.
NOT_MAKING = re.compile(r"describe|caption|ocr|recogni|识别|理解|search|搜索|查看", re.IGNORECASE)


def looks_like_image_tool(name: str, description: str) -> bool:
    text = f"{name} {description}"
    return bool(IMAGE_WORDS.search(text)) and not NOT_MAKING.search(name)


def image_tool_names(tools: list[Any], settings: PictureSettings) -> list[str]:
    """The names of the image tools among ``tools`` (objects with name/description)."""
    names: list[str] = []
    excluded = set(settings.exclude_tools)
    included = set(settings.include_tools)
    for tool in tools:
        name = str(getattr(tool, "name", "") or "")
        if not name or name in excluded:
            continue
        description = str(getattr(tool, "description", "") or "")
        if name in included or looks_like_image_tool(name, description):
            names.append(name)
    return names


def picture_instruction(mode: str, names: list[str]) -> str:
    """What the system prompt adds so the model asks for a picture (or may)."""
    listed = ", ".join(names)
    if mode == "always":
        return (
            "\n# Picture\n\nThis message goes out with a picture. Call one of these image "
            f"tools exactly once to make a picture that fits the message: {listed}. "
            "Then write the message itself as your final answer (do not describe the "
            "tool call, do not paste links).\n"
        )
    return (
        "\n# Picture\n\nIf this message would be nicer with a picture, you may call one "
        f"of these image tools once: {listed}. Most messages need none. Your final "
        "answer is the message itself (do not describe the tool call, do not paste links).\n"
    )
