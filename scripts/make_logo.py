"""Draws logo.png (256x256), the plugin's card image in AstrBot's dashboard.

A speech bubble that speaks first: a white bubble with three dots on a blue tile, and a
small spark at its corner. Drawn at 4x and scaled down, so the edges are smooth.
Run from the repo root: ``python scripts/make_logo.py`` (needs Pillow, which AstrBot
brings). The PNG is committed; this script only says how it was made.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4
OUT = Path(__file__).resolve().parent.parent / "logo.png"
TOP, BOTTOM = (37, 99, 235), (14, 165, 233)  # blue to sky, top to bottom
SPARK = (250, 204, 21)


def _gradient(size: int) -> Image.Image:
    tile = Image.new("RGB", (1, size))
    for y in range(size):
        f = y / (size - 1)
        tile.putpixel(
            (0, y), tuple(round(a + (b - a) * f) for a, b in zip(TOP, BOTTOM, strict=True))
        )
    return tile.resize((size, size))


def _spark(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    """A four-pointed star."""
    w = r * 0.28
    draw.polygon(
        [
            (cx, cy - r),
            (cx + w, cy - w),
            (cx + r, cy),
            (cx + w, cy + w),
            (cx, cy + r),
            (cx - w, cy + w),
            (cx - r, cy),
            (cx - w, cy - w),
        ],
        fill=SPARK,
    )


def draw_logo() -> Image.Image:
    s = SIZE * SCALE
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, s - 1, s - 1), radius=56 * SCALE, fill=255)
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    image.paste(_gradient(s), (0, 0), mask)
    draw = ImageDraw.Draw(image)
    k = SCALE
    # The bubble and its tail, bottom left.
    draw.rounded_rectangle((40 * k, 62 * k, 200 * k, 170 * k), radius=40 * k, fill="white")
    draw.polygon([(70 * k, 160 * k), (58 * k, 206 * k), (112 * k, 166 * k)], fill="white")
    # Three dots: a message on its way.
    for x in (84, 120, 156):
        draw.ellipse(((x - 12) * k, 104 * k, (x + 12) * k, 128 * k), fill=TOP)
    _spark(draw, 204 * k, 58 * k, 30 * k)
    return image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


if __name__ == "__main__":
    draw_logo().save(OUT, optimize=True)
    print(f"wrote {OUT}")
