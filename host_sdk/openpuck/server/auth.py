"""Secrets: installation and login tokens, therapists' passwords.

A token is 32 random bytes (URL-safe text, ``opk_`` before an installation's,
``opl_`` before a login's); the database keeps only its SHA-256, which is
enough for a secret that random and lets the server find it by it. A
password is hashed with argon2id (argon2-cffi's defaults, salt included).
"""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

INSTALLATION_PREFIX = "opk_"
LOGIN_PREFIX = "opl_"
MIN_PASSWORD = 10
_hasher = PasswordHasher()


def new_token(prefix: str) -> str:
    """A fresh random token (shown once, to whoever it is issued to)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a therapist's password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (False for a malformed one)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


#: verified against when the e-mail is unknown, so a login takes as long either way
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
