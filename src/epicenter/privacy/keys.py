"""Keyed pseudonyms: HMAC-SHA256 under a secret kept outside the warehouse.

A person's key is the HMAC of their id_no; a phone the person registry does not link to
an id_no gets the HMAC of the phone. Prefixes keep the identifier spaces apart, so an
id_no and a phone can never collide. Whoever holds the warehouse but not the secret
cannot reverse or recompute the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from epicenter.settings import Settings

SECRET_BYTES = 32  # 256 bits
DEFAULT_SECRET = Path("~/.config/epicenter/secret")


def load_secret(settings: Settings | None = None, path: Path | None = None) -> bytes:
    """Read the secret, creating it (0600, 256 random bits) on first use."""
    path = path or (settings.secret_file if settings and settings.secret_file else None)
    path = Path(path or os.environ.get("EPICENTER_SECRET_FILE") or DEFAULT_SECRET).expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(SECRET_BYTES) + "\n")
    text = path.read_text().strip()
    secret = bytes.fromhex(text) if all(c in "0123456789abcdefABCDEF" for c in text) else text.encode()
    if len(secret) < SECRET_BYTES:
        raise ValueError(f"secret in {path} is shorter than {SECRET_BYTES} bytes (256 bits)")
    return secret


class Pseudonymizer:
    """Turns clear identifiers into stable keys. Call it on distinct values only."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pseudonymizer:
        return cls(load_secret(settings))

    def _mac(self, prefix: str, value: str) -> str:
        return hmac.new(self._secret, f"{prefix}:{value}".encode(), hashlib.sha256).hexdigest()

    def id_key(self, id_no: str) -> str:
        """person_key of a resident identity number (upper-cased 'x' check digit)."""
        return self._mac("id", id_no.strip().upper())

    def phone_key(self, phone: str) -> str:
        """person_key of a phone that the registry does not link to a person."""
        return self._mac("phone", phone.strip())

    def household_key(self, home_address: str) -> str:
        return self._mac("addr", " ".join(home_address.split()))

    def many(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        fn = {"id": self.id_key, "phone": self.phone_key, "addr": self.household_key}[kind]
        return [None if v is None else fn(v) for v in values]
