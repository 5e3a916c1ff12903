"""Turn the words people write in markdown into typed values.

Each parser returns the value or raises ValueError with a message meant for the user.
"""

from __future__ import annotations

import math
import re

from loopgate.markdown.document import without_comments

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?) ?([a-z]+)")
_ISO_DURATION = re.compile(r"^p(?:t)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_JOINER = re.compile(r" ?(?:,|\band\b) ?")
_CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
_MONEY_SYMBOL = re.compile(r"^([$€£])\s*(\d[\d,]*(?:\.\d+)?)$")
_MONEY_CODE = re.compile(r"^(\d[\d,]*(?:\.\d+)?)\s*([A-Za-z]{3})$")
_INTEGER = re.compile(r"^[+-]?\d{1,3}(?:[,_]\d{3})*$|^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?$")
_TRUE = {"yes", "true", "on", "y", "enabled"}
_FALSE = {"no", "false", "off", "n", "disabled"}

# Bounds on what the artifacts may say. Nobody writes a budget of a quadrillion, and past these a
# number stops being exact (floats) or becomes infinity (`$` + 400 nines), which would pass every
# `minimum` check and let `round()` raise. Every pattern below is anchored and unambiguous, so
# parsing stays linear however long the value.
MAX_NUMBER = 10**15
MAX_DURATION = 10 * 365 * 86400  # ten years, in seconds


class OutOfRange(ValueError):
    """A well-formed value beyond the bounds above (reported as out of range, not as malformed)."""


def shown(text: str, limit: int = 40) -> str:
    """`text` for a message: a user's megabyte-long value must not become a megabyte-long finding."""
    text = text.strip()
    return text if len(text) <= limit else f"{text[:limit - 3]}... ({len(text):,} characters)"


def _bounded(number: float, text: str, limit: float = MAX_NUMBER) -> None:
    if not math.isfinite(number) or abs(number) > limit:
        raise OutOfRange(f"'{shown(text)}' is too large (the limit is {limit:,.0f})")


def _duration_parts(value: str) -> list[tuple[str, str]] | None:
    """`1h 30m` -> [("1", "h"), ("30", "m")]; None unless the whole text is number-unit pairs.

    One anchored match after another (never `findall`, which restarts inside every run of digits
    and goes quadratic on a long one)."""
    parts: list[tuple[str, str]] = []
    position = 0
    while position < len(value):
        if value[position] == " ":
            position += 1
            continue
        match = _DURATION_PART.match(value, position)
        if match is None:
            return None
        parts.append((match.group(1), match.group(2)))
        position = match.end()
    return parts


def parse_duration(text: str) -> int:
    """`30 minutes`, `90s`, `1h 30m`, `1.5 hours`, `PT30M` -> whole seconds."""
    value = " ".join(text.lower().split())
    iso = _ISO_DURATION.match(value)
    if iso and any(iso.groups()):
        hours, minutes, seconds = (float(g) if g else 0.0 for g in iso.groups())  # float: no digit limit
        total = hours * 3600 + minutes * 60 + seconds
    else:
        parts = _duration_parts(_JOINER.sub(" ", value))
        if not parts:
            if _NUMBER.match(value):
                example = f"'{text.strip()} minutes'" if len(text.strip()) <= 20 else "'30 minutes'"
                raise ValueError(f"'{shown(text)}' has no unit; write e.g. {example}")
            raise ValueError(f"'{shown(text)}' is not a duration (write e.g. '30 minutes', '90s', '1h 30m')")
        total = 0.0
        for number, unit in parts:
            if unit not in _UNITS:
                raise ValueError(f"'{shown(unit)}' in '{shown(text)}' is not a time unit (use s, min, h or d)")
            total += float(number) * _UNITS[unit]
    _bounded(total, text, MAX_DURATION)
    return round(total)


def parse_money(text: str) -> dict[str, object]:
    """`$5`, `$2.50`, `5 USD`, `3 eur` -> {"amount": 5.0, "currency": "USD"}."""
    value = text.strip()
    symbol = _MONEY_SYMBOL.match(value)
    coded = _MONEY_CODE.match(value)
    if symbol:
        amount, currency = symbol.group(2), _CURRENCY_SYMBOLS[symbol.group(1)]
    elif coded:
        amount, currency = coded.group(1), coded.group(2).upper()
    else:
        raise ValueError(f"'{shown(text)}' is not an amount of money (write e.g. '$5' or '5 USD')")
    number = float(amount.replace(",", ""))
    _bounded(number, text)
    return {"amount": number, "currency": currency}


def parse_integer(text: str) -> int:
    value = text.strip()
    if not _INTEGER.match(value):  # anchored and unambiguous: linear however long the text
        raise ValueError(f"'{shown(text)}' is not a whole number")
    digits = value.replace(",", "").replace("_", "")
    # Checked on the digits, before int(): a 5,000-digit number would otherwise raise Python's
    # own "Exceeds the limit (4300 digits)" error, which tells the user to call sys.set_int_max_str_digits().
    if len(digits.lstrip("+-").lstrip("0")) > len(str(MAX_NUMBER)):
        raise OutOfRange(f"'{shown(text)}' is too large (the limit is {MAX_NUMBER:,})")
    number = int(digits)
    _bounded(number, text)
    return number


def parse_number(text: str) -> float | int:
    value = text.strip().replace(",", "")
    if _INTEGER.match(text.strip()):
        return parse_integer(text)
    if not _NUMBER.match(value):
        raise ValueError(f"'{shown(text)}' is not a number")
    number = float(value)
    _bounded(number, text)
    return number


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
    raise ValueError(f"'{shown(text)}' is not yes or no")


def parse_word(text: str) -> str:
    """Choice words: case-insensitive, `_` and `-` alike (`In_Progress` -> `in-progress`)."""
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def parse_list(text: str) -> list[str]:
    """Comma-separated entries; backticks wrapped around an entry are dropped (they keep `*` literal).

    A comma inside a backticked entry does not split it (`` `{a,b}` ``), as long as the
    backticks pair up; with an odd one every comma splits.
    """
    text = without_comments(text)  # `docs/** <!-- the docs -->` is one pattern, as a reader sees it
    quoted_commas = text.count("`") % 2 == 0
    parts: list[str] = []
    start, quoted = 0, False
    for index, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        elif char == "," and not (quoted and quoted_commas):
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    stripped = (part.strip() for part in parts)
    return [p[1:-1] if len(p) > 1 and p[0] == p[-1] == "`" else p for p in stripped if p.strip("`")]
