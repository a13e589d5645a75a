"""Identifying data encrypted at rest: names, references and free text about people are
stored as Fernet tokens (AES-128-CBC with HMAC-SHA256, from `cryptography`), so the database
file or table alone reveals none of them.

Keys come from configuration (MARAC_ENCRYPTION_KEYS: comma-separated, the first encrypts,
all decrypt, which is how keys are rotated; `marac rotate-keys` re-encrypts every value with
the first). Values that must be matched (a victim's reference, to find repeats and
duplicates) also get a keyed blind index (HMAC-SHA256 with MARAC_INDEX_KEY), never the value.
Without configuration a fixed development key is used, which `marac serve` refuses once a
Bot Framework app id is set (bot.config).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

# For local use and tests only; never for real data.
DEVELOPMENT_KEY = "bWFyYWMtZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQ="
DEVELOPMENT_INDEX_KEY = "marac-development-index-key"
# A token this long holds at most about 120 bytes; a few thousand such values are well under
# a megabyte, about one busy MARAC's people and open cases.
SHORT_TOKEN = 256
KEPT_SHORT_VALUES = 4096


class Keyring:
    def __init__(self, keys: list[str], index_key: str) -> None:
        if not keys:
            raise ValueError("At least one encryption key is needed.")
        try:
            self.fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except ValueError as error:
            raise ValueError("MARAC_ENCRYPTION_KEYS must be Fernet keys (32 url-safe "
                             "base64-encoded bytes each).") from error
        self.index_key = index_key.encode()
        self._short = functools.lru_cache(maxsize=KEPT_SHORT_VALUES)(self._decrypt)

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        """A short value (a first name, who updates the victim) is read on nearly every
        press: decrypted once per stored token and kept by this keyring (a token is never
        reused: each encryption has its own random IV). Configured keys change with a new
        keyring, which keeps nothing of the old one's."""
        if len(token) <= SHORT_TOKEN:
            return self._short(token)
        return self._decrypt(token)

    def _decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except InvalidToken as error:
            raise ValueError("A stored value cannot be decrypted with the configured keys."
                             ) from error

    def rotate(self, token: str) -> str:
        return self.fernet.rotate(token.encode()).decode()

    def signature(self, purpose: str, text: str) -> str:
        """A keyed signature of exactly this text, for this purpose: proof the bot wrote it."""
        return hmac.new(self.index_key, f"{purpose}\n{text}".encode(),
                        hashlib.sha256).hexdigest()

    def signed(self, purpose: str, text: str, signature: str) -> bool:
        return hmac.compare_digest(self.signature(purpose, text), signature)

    def blind_index(self, text: str) -> str:
        normalised = " ".join(text.split()).casefold()
        return hmac.new(self.index_key, normalised.encode(), hashlib.sha256).hexdigest()


_keyring = Keyring([DEVELOPMENT_KEY], DEVELOPMENT_INDEX_KEY)


def configure(keys: list[str], index_key: str) -> None:
    global _keyring
    _keyring = Keyring(keys, index_key)


def keyring() -> Keyring:
    return _keyring


def blind_index(text: str) -> str:
    return _keyring.blind_index(text)


class EncryptedText(TypeDecorator[str]):
    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else _keyring.encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else _keyring.decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document (an outbox message's card, which names people) encrypted whole."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else _keyring.encrypt(json.dumps(value))

    def process_result_value(self, value: str | None, dialect: Any) -> Any:
        return None if value is None else json.loads(_keyring.decrypt(value))
