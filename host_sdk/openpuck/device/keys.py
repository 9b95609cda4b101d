"""The host's owner keys and signing clock (protocol/spec.md section 9).

Everything lives in the user's config folder: ``OPENPUCK_CONFIG_DIR`` when
set (tests, a second profile), else platformdirs' user config folder for
"openpuck" (``~/.config/openpuck`` on Linux)::

    keys/<serial>.key     the owner key of the puck with that serial, hex (mode 0600)
    signing-clock         the last signing timestamp this host used

:class:`KeyStore` keeps one key per puck serial (``device_info.serial``).
:class:`SigningClock` hands out 48-bit timestamps (10 us units since
2015-01-01 UTC, MAVLink's) that never repeat, even across host restarts and
processes: each is max(wall clock, last one + 1), and the last one is kept
on disk before it is used. Whoever can read the key file can command the
puck: it is the user's own, like an SSH key.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import OpenPuckError
from ..protocol import signing

__all__ = ["KeyStoreError", "KeyStore", "SigningClock", "config_dir", "ENV_CONFIG_DIR"]

ENV_CONFIG_DIR = "OPENPUCK_CONFIG_DIR"
_SERIAL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class KeyStoreError(OpenPuckError):
    """A key file that cannot be read or written, or a serial that cannot name one."""


def config_dir() -> Path:
    """The folder of the host's OpenPuck state: $OPENPUCK_CONFIG_DIR, else the user config folder."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs
    return Path(platformdirs.user_config_dir("openpuck", appauthor=False))


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class KeyStore:
    """Owner keys by puck serial, in ``folder/keys`` (default: :func:`config_dir`)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else config_dir()

    def path_of(self, serial: str) -> Path:
        if not isinstance(serial, str) or not _SERIAL.match(serial):
            raise KeyStoreError(f"puck serial {serial!r} cannot name a key file (letters, digits, "
                            "'_', '.', '-'); a puck without a serial number cannot be paired")
        return self.folder / "keys" / f"{serial}.key"

    def get(self, serial: str) -> bytes | None:
        """The owner key of the puck ``serial``, or None when this host has none."""
        p = self.path_of(serial)
        try:
            text = p.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise KeyStoreError(f"{p}: cannot read the owner key ({e.strerror})") from None
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != signing.KEY_SIZE:
            raise KeyStoreError(f"{p}: not an owner key ({signing.KEY_SIZE} bytes in hex); delete the "
                            "file and pair the puck again over USB (openpuck pair URL)")
        return key

    def put(self, serial: str, key: bytes) -> Path:
        """Keep ``key`` as the owner key of ``serial`` (replacing any other)."""
        if len(key) != signing.KEY_SIZE:
            raise KeyStoreError(f"an owner key is {signing.KEY_SIZE} bytes, not {len(key)}")
        p = self.path_of(serial)
        _write_private(p, key.hex() + "\n")
        return p

    def delete(self, serial: str) -> bool:
        """Forget the key of ``serial``; True if there was one."""
        try:
            self.path_of(serial).unlink()
            return True
        except FileNotFoundError:
            return False

    def serials(self) -> list[str]:
        """The serials this host holds keys for."""
        return sorted(p.stem for p in (self.folder / "keys").glob("*.key"))


class SigningClock:
    """48-bit signing timestamps that never repeat (see the module docstring)."""

    _lock = threading.Lock()   # one per process; processes take the file lock

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else config_dir()
        self.path = self.folder / "signing-clock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / "signing-clock.lock", "a") as lockf:
                try:
                    import fcntl
                except ImportError:   # Windows: one process at a time is the user's to ensure
                    fcntl = None      # type: ignore[assignment]
                if fcntl is not None:
                    fcntl.flock(lockf.fileno(), fcntl.LOCK_EX)
                yield

    def _last(self) -> int:
        try:
            return int(self.path.read_text(encoding="ascii").strip() or 0)
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as e:
            raise KeyStoreError(f"{self.path}: unreadable signing clock ({e}); delete it: the wall "
                            "clock takes over, and a puck refuses nothing it should accept "
                            "unless this host's clock was set back") from None

    def last(self) -> int:
        """The last timestamp handed out (0: none yet)."""
        with self._locked():
            return self._last()

    def next(self) -> int:
        """A timestamp above every one handed out before, kept on disk before it is returned."""
        with self._locked():
            ts = max(signing.now(), self._last() + 1)
            if ts > signing.TIMESTAMP_MAX:
                raise KeyStoreError("the signing clock ran past 48 bits (year 2104)")
            _write_private(self.path, f"{ts}\n")
            return ts

    def advance_to(self, ts: int) -> int:
        """Make the next timestamp at least ``ts`` (a puck proved it accepted
        ``ts - 1``); the last one handed out, kept on disk."""
        with self._locked():
            last = max(self._last(), ts - 1)
            if last > signing.TIMESTAMP_MAX:
                raise KeyStoreError("the signing clock ran past 48 bits (year 2104)")
            _write_private(self.path, f"{last}\n")
            return last
