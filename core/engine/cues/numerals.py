"""Numbers as people type them in chat: ``10``, ``１０``, ``十``, ``两``, ``二十五``,
``一百零五``; ``ten``, ``an``, ``forty-five``, ``a couple of``.

Pure functions on short strings; an unreadable number is ``None``, never an exception.
"""

from __future__ import annotations

ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
ZH_UNITS = {"十": 10, "百": 100}

# A regex piece: an Arabic (also full-width) or a Chinese number, up to 999.
ZH_NUMBER = r"(?:\d{1,3}(?:\.\d)?|[零〇一二两俩三四五六七八九十百]{1,5})"

EN_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "forty five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
}
# A regex piece: the words above (longest first, so "forty-five" beats "forty"), or digits.
EN_NUMBER = (
    r"(?:\d{1,3}(?:\.\d+)?|"
    + "|".join(sorted((w.replace(" ", r"\s") for w in EN_WORDS), key=len, reverse=True))
    + ")"
)


def zh_number(text: str) -> float | None:
    """``十二`` -> 12, ``两`` -> 2, ``1.5`` -> 1.5, ``１０`` -> 10; ``None`` if unreadable."""
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)  # Arabic and full-width digits, "1.5"
    except ValueError:
        pass
    total, current, seen = 0, 0, False
    for char in text:
        if char in ZH_DIGITS:
            current, seen = ZH_DIGITS[char], True
        elif char in ZH_UNITS:
            total += (current or 1) * ZH_UNITS[char]
            current, seen = 0, True
        else:
            return None
    return float(total + current) if seen else None


def en_number(text: str) -> float | None:
    """``forty-five`` -> 45, ``an`` -> 1, ``2.5`` -> 2.5; ``None`` if unreadable."""
    text = " ".join(text.lower().split())
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return float(EN_WORDS[text]) if text in EN_WORDS else None
