"""Encryption at rest and keyed hashing, with keys from the environment (never the database).

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) encrypts report text, attachments
and open conversation keys. MultiFernet lets a new key be added in front of old ones, and
`rotate` re-encrypts under the newest. Keyed hashes (HMAC) stand in for Telegram ids wherever
a lookup is needed: a plain hash of a small integer is reversed by trying them all.

The keyed hashes use a *lookup secret* of their own, not an encryption key: a keyed hash cannot be
re-computed without what it hides (a chat id, a receipt code), so its secret must outlive every
encryption key. The running bot reads it from the database, where it is kept encrypted like any
other value (bot/reports/keys.py: `with_lookup_secret`); rotation re-encrypts it and leaves its
value alone. Without one, the secret is derived from the oldest key, as before it was kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

__all__ = ["Crypto", "InvalidToken", "generate_key", "load_or_create_local_key"]


def generate_key() -> str:
    return Fernet.generate_key().decode()


def derived_lookup_secret(keys: list[str]) -> bytes:
    """The lookup secret of databases from before it was kept: derived from the oldest key."""
    return hashlib.sha256(b"qingfeng-hmac:" + keys[-1].encode()).digest()


class Crypto:
    def __init__(self, keys: list[str], lookup_secret: bytes | None = None):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except (ValueError, TypeError) as exc:
            raise ValueError("an encryption key is not a valid Fernet key (32 url-safe base64 bytes)") from exc
        self._keys = list(keys)
        self._hmac_key = lookup_secret or derived_lookup_secret(keys)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    def with_lookup_secret(self, lookup_secret: bytes) -> "Crypto":
        """The same keys, with keyed hashes under `lookup_secret`."""
        return Crypto(self._keys, lookup_secret)

    def encrypt(self, data: bytes) -> bytes:
        # A Fernet token carries its creation time in the clear, to the second: it would date a
        # report or a reply exactly. Every token carries the same time instead (no TTL is used).
        return self._fernet.encrypt_at_time(data, 0)

    def decrypt(self, token: bytes) -> bytes:
        return self._fernet.decrypt(token)

    def encrypt_text(self, text: str) -> bytes:
        return self.encrypt(text.encode("utf-8"))

    def decrypt_text(self, token: bytes) -> str:
        return self.decrypt(token).decode("utf-8")

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (dropping any creation time an older token carried)."""
        return self.encrypt(self.decrypt(token))

    def keyed_hash(self, *parts: object) -> str:
        message = "\x1f".join(str(part) for part in parts).encode("utf-8")
        return hmac.new(self._hmac_key, message, hashlib.sha256).hexdigest()


def load_or_create_local_key(data_dir: Path) -> str:
    """The embedded default: a key generated once into the data directory, readable only by us."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning("No encryption key configured: generated %s. Back it up; set "
                "QINGFENG_SECURITY__ENCRYPTION_KEYS in production.", path)
    return key
