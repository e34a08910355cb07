"""Confusable folding for keys: a look-alike of a key is compared as the key it imitates.

A key written ``ΙD`` (Greek capital iota) or ``Раrameters`` (Cyrillic ``Р`` and ``а``) looks
like ``ID`` or ``Parameters`` to a reviewer, but is another string. :func:`skeleton` folds a
key the way Unicode TR39's *skeleton* does for the scripts that imitate Latin keys: NFKC
(full-width, mathematical and compatibility letters), then each Greek, Cyrillic, Armenian or
Latin look-alike to the Latin letter it imitates, then the letters and digits that TR39 also
holds confusable with each other (``I``, ``l``, ``1``, ``|``; ``O``, ``0``), then case. Two keys
with the same skeleton are the same key to a reader's eye.

The table is local and small (no well-kept package on PyPI gives TR39 skeletons): it covers
every letter of those scripts that TR39's ``confusables.txt`` maps to a single Latin letter
or digit, which is what a model-index key is written with.
"""

from __future__ import annotations

import unicodedata

_LOOK_ALIKES = {
    # Greek capitals and small letters
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J", "Ϝ": "F",
    "α": "a", "γ": "y", "ι": "i", "ν": "v", "ο": "o", "ρ": "p", "σ": "o", "υ": "u", "χ": "x",
    "ϲ": "c", "ϳ": "j", "ɑ": "a", "κ": "k", "ε": "e", "ϵ": "e", "ω": "w",
    # Cyrillic capitals and small letters
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԁ": "D", "Ԍ": "G", "Ԛ": "Q", "Ԝ": "W",
    "Ӏ": "I", "Ꙅ": "S", "Ь": "b", "З": "3", "Ⅼ": "L",
    "а": "a", "с": "c", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "о": "o", "р": "p", "ԛ": "q",
    "ѕ": "s", "у": "y", "ү": "y", "х": "x", "ԁ": "d", "ԝ": "w", "ѵ": "v", "ӏ": "l", "ɡ": "g", "ь": "b",
    "г": "r", "п": "n", "т": "t", "м": "m", "в": "b", "н": "h", "ш": "w", "ꙇ": "i",
    # Armenian and Latin look-alikes
    "Օ": "O", "Ս": "U", "Տ": "S", "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "ք": "f",
    "ı": "i", "ȷ": "j", "ℓ": "l", "ɩ": "i", "ʟ": "L", "ꓲ": "I", "ǀ": "l", "ǃ": "!",
    # invisible characters that change nothing a reader sees
    "\u200b": "", "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
}
# TR39 also holds these Latin letters and digits confusable with each other
_SAME = {"I": "l", "1": "l", "|": "l", "i": "l", "0": "o", "O": "o"}
_TABLE = str.maketrans({**_LOOK_ALIKES})
_SAME_TABLE = str.maketrans(_SAME)


def skeleton(text: str) -> str:
    """``text`` as a reader sees it: look-alikes folded to the letters they imitate, case and
    separators (``_``, ``-``, spaces) ignored. Equal skeletons: the same key to the eye."""
    folded = unicodedata.normalize("NFKC", text).translate(_TABLE)
    folded = unicodedata.normalize("NFKC", folded).translate(_SAME_TABLE).casefold().translate(_SAME_TABLE)
    return "".join(c for c in folded if c not in " _-\t")


def look_alike(name: str, known: tuple[str, ...] | list[str]) -> str | None:
    """The key of ``known`` that ``name`` imitates (same skeleton, different spelling), or ``None``."""
    if name.isascii():
        return None
    shape = skeleton(name)
    return next((k for k in known if skeleton(k) == shape), None)


def non_ascii(name: str) -> str:
    """The first character of ``name`` outside ASCII, named: ``'Ι' (GREEK CAPITAL LETTER IOTA)``."""
    char = next((c for c in name if not c.isascii()), "")
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})" if char else ""
