"""Receipt codes: the reporter's only way back to a report.

A code is 16 characters of Crockford's base32 (no I, L, O, U), 80 bits from `secrets`, shown
grouped as `K7QF-2M9X-ABCD-EFGH`. Typing is forgiving: case, spaces, dashes, full-width forms
and the look-alikes O→0, I/L→1 are normalised.

The database never sees the code: it keeps an Argon2id hash (salted, slow) of the whole code,
and, because a salted hash cannot be searched for, a *locator*: a keyed HMAC (secret key outside
the database) of the first few characters, which narrows the search to one or a few rows whose
hashes are then verified. The locator covers only 30 of the 80 bits, so even someone holding the
key who recovers it by brute force is left with 50 bits behind Argon2.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.crypto import Crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
CODE_LENGTH = 16  # × 5 bits = 80 bits
GROUP = 4
LOCATOR_CHARS = 6  # 30 bits
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\u2010\u2011\u2012\u2013\u2014\u2212\u00b7\u3000")

# Argon2id, OWASP's minimum profile (19 MiB, 2 passes): ~20 ms per check, run off the event loop.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str | None:
    """The code in canonical form, or None when the text cannot be a receipt code."""
    candidate = unicodedata.normalize("NFKC", text or "").upper().translate(_SEPARATORS).translate(_LOOK_ALIKES)
    if len(candidate) != CODE_LENGTH or any(char not in ALPHABET for char in candidate):
        return None
    return candidate


# A code inside other text: four groups of four (any separators), or sixteen in a row holding a
# digit (an English word of sixteen letters, "responsibilities", is not a code).
_GROUPED = re.compile(r"(?<![0-9A-Za-z])(?:[0-9A-Za-z]{4}[\s\-_.\u2010-\u2014\u2212\u00b7\u3000]+){3}[0-9A-Za-z]{4}(?![0-9A-Za-z])")
_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{16}(?![0-9A-Za-z])")


def holds_code(text: str) -> bool:
    """Whether `text` holds something that reads as a receipt code (a reporter pasting it as a
    question): such text must never be kept, in the editors' list of questions or anywhere."""
    text = unicodedata.normalize("NFKC", text or "")
    return any(normalise(m.group()) for m in _GROUPED.finditer(text)) or \
        any(normalise(m.group()) and any(c.isdigit() for c in m.group()) for m in _RUN.finditer(text))


def locator(crypto: Crypto, code: str) -> str:
    return crypto.keyed_hash("report-code-locator", code[:LOCATOR_CHARS])


async def hash_code(code: str) -> str:
    return await asyncio.to_thread(_hasher.hash, code)


async def verify_code(code_hash: str, code: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(code_hash, code)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
