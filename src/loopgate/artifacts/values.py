"""Turn the words people write in markdown into typed values.

Each parser returns the value or raises ValueError with a message meant for the user.
"""

from __future__ import annotations

import re

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_ISO_DURATION = re.compile(r"^p(?:t)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_MONEY_SYMBOL = re.compile(r"^([$€£])\s*(\d[\d,]*(?:\.\d+)?)$")
_MONEY_CODE = re.compile(r"^(\d[\d,]*(?:\.\d+)?)\s*([A-Za-z]{3})$")
_INTEGER = re.compile(r"^[+-]?\d{1,3}(?:[,_]\d{3})*$|^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_TRUE = {"yes", "true", "on", "y", "enabled"}
_FALSE = {"no", "false", "off", "n", "disabled"}


def parse_duration(text: str) -> int:
    """`30 minutes`, `90s`, `1h 30m`, `1.5 hours`, `PT30M` -> whole seconds."""
    value = text.strip().lower()
    iso = _ISO_DURATION.match(value)
    if iso and any(iso.groups()):
        hours, minutes, seconds = (int(g) if g else 0 for g in iso.groups())
        return hours * 3600 + minutes * 60 + seconds
    cleaned = re.sub(r"\s*(,|and)\s*", " ", value)
    parts = _DURATION_PART.findall(cleaned)
    rebuilt = " ".join(f"{n}{u}" for n, u in parts)
    if not parts or re.sub(r"\s+", "", rebuilt) != re.sub(r"\s+", "", cleaned):
        if _NUMBER.match(value):
            raise ValueError(f"'{text}' has no unit; write e.g. '{text} minutes'")
        raise ValueError(f"'{text}' is not a duration (write e.g. '30 minutes', '90s', '1h 30m')")
    total = 0.0
    for number, unit in parts:
        if unit not in _UNITS:
            raise ValueError(f"'{unit}' in '{text}' is not a time unit (use s, min, h or d)")
        total += float(number) * _UNITS[unit]
    return round(total)


def parse_money(text: str) -> dict[str, object]:
    """`$5`, `$2.50`, `5 USD`, `3 eur` -> {"amount": 5.0, "currency": "USD"}."""
    value = text.strip()
    symbol = _MONEY_SYMBOL.match(value)
    if symbol:
        return {"amount": float(symbol.group(2).replace(",", "")), "currency": _CURRENCY_SYMBOLS[symbol.group(1)]}
    coded = _MONEY_CODE.match(value)
    if coded:
        return {"amount": float(coded.group(1).replace(",", "")), "currency": coded.group(2).upper()}
    raise ValueError(f"'{text}' is not an amount of money (write e.g. '$5' or '5 USD')")


def parse_integer(text: str) -> int:
    value = text.strip()
    if not _INTEGER.match(value):
        raise ValueError(f"'{text}' is not a whole number")
    return int(value.replace(",", "").replace("_", ""))


def parse_number(text: str) -> float | int:
    value = text.strip().replace(",", "")
    if _INTEGER.match(text.strip()):
        return parse_integer(text)
    if not _NUMBER.match(value):
        raise ValueError(f"'{text}' is not a number")
    return float(value)


def parse_percentage(text: str) -> float | int:
    """`80%`, `80 %`, `80` -> 80 (the schema bounds it to 0..100)."""
    value = text.strip()
    number = value[:-1].rstrip() if value.endswith("%") else value
    try:
        return parse_number(number)
    except ValueError:
        raise ValueError(f"'{text}' is not a percentage (write e.g. '80%')") from None


def parse_boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"'{text}' is not yes or no")


def parse_word(text: str) -> str:
    """Choice words: case-insensitive, `_` and `-` alike (`In_Progress` -> `in-progress`)."""
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def parse_list(text: str) -> list[str]:
    """Comma-separated entries; backticks wrapped around an entry are dropped (they keep `*` literal)."""
    parts = (part.strip() for part in text.split(","))
    return [p[1:-1] if len(p) > 1 and p[0] == p[-1] == "`" else p for p in parts if p.strip("`")]
