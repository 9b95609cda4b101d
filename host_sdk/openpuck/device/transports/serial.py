"""``serial:`` a puck on a USB (CDC-ACM) or UART serial port, through pyserial.

URL grammar::

    serial:PORT[?baud=N]       e.g. serial:/dev/ttyACM0, serial:COM5?baud=921600
    /dev/ttyACM0, COM5         a plain port name means serial
    serial:socket://HOST:PORT  any pyserial URL works as PORT (rfc2217://, loop://...)

``baud`` defaults to 115200 (USB CDC ignores it; a UART puck needs it right).
A serial link that vanishes (cable pulled, puck rebooted) raises
:class:`ConnectionLost`; reopening waits for the port to come back.

A pseudo-terminal (the virtual puck's port, /dev/pts/N) never comes back:
the kernel hands its name to the next pseudo-terminal anyone opens, so a
reopen that finds another terminal under the name refuses it rather than
taking a stranger's port (which would also lock its owner out).
"""
from __future__ import annotations

import os
import re
from typing import Any

from .base import ConnectionLost, Transport, TransportError, check_params

DEFAULT_BAUD = 115200


class SerialTransport(Transport):
    scheme = "serial"

    def __init__(self, url: str, port: str, baud: int = DEFAULT_BAUD) -> None:
        super().__init__(url)
        self.port = port
        self.baud = baud
        self._ser: Any = None   # a serial.Serial (or a URL handler's port) while open
        self._pty: tuple[int, int] | None = None   # the pseudo-terminal first opened, see _pty_identity
        #: lock the port (flock) while open; None when its owner holds the lock already (sim:)
        self.exclusive: bool | None = True

    def _open(self) -> None:
        import serial  # pyserial, a core dependency
        if self._pty is not None:
            self._check_same_pty(_pty_identity(self.port))   # before opening: never lock a stranger's port
        try:
            self._ser = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.1,
                                              write_timeout=2.0, exclusive=self.exclusive)
        except TypeError:  # URL handlers that do not take exclusive=
            self._ser = serial.serial_for_url(self.port, baudrate=self.baud, timeout=0.1,
                                              write_timeout=2.0)
        except (serial.SerialException, OSError, ValueError) as e:
            why = _why(e)
            if "exclusively lock" in why or "busy" in why.lower() or getattr(e, "errno", None) == 11 \
                    or "Errno 11" in why:
                raise TransportError(f"{self.port}: in use by another program (a second openpuck, a "
                                     f"serial monitor, mpremote?): close it and try again") from None
            raise TransportError(f"{self.port}: cannot open ({why})") from None
        try:
            now = _pty_identity(self.port, self._ser.fileno())
        except (AttributeError, ValueError, OSError, serial.SerialException):   # a URL handler: no fd
            now = None
        if self._pty is None:
            self._pty = now
        else:
            try:   # the name changed hands between the check above and the open
                self._check_same_pty(now)
            except TransportError:
                self._close()
                raise

    def _check_same_pty(self, now: tuple[int, int] | None) -> None:
        if now is not None and now != self._pty:
            raise TransportError(f"{self.port}: the pseudo-terminal first opened is gone and another "
                                 f"program's now has its name; not opening it")

    def _close(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except Exception:  # noqa: BLE001 - closing a vanished port
                pass

    def read(self, timeout: float = 0.1) -> bytes:
        import serial
        ser = self._ser
        if ser is None:
            raise ConnectionLost(f"{self.port}: not open")
        try:
            if ser.timeout != timeout:
                ser.timeout = timeout
            first = ser.read(1)
            if not first:
                return b""
            waiting = ser.in_waiting
            return first + (ser.read(waiting) if waiting else b"")
        except (serial.SerialException, OSError, TypeError, AttributeError) as e:
            # TypeError/AttributeError: pyserial racing a close from another thread
            raise ConnectionLost(f"{self.port}: {_why(e)}") from None

    def _write(self, data: bytes) -> None:
        import serial
        ser = self._ser
        if ser is None:
            raise ConnectionLost(f"{self.port}: not open")
        try:
            ser.write(data)
        except (serial.SerialException, OSError) as e:
            raise ConnectionLost(f"{self.port}: {_why(e)}") from None

    def describe(self) -> str:
        return f"serial {self.port} at {self.baud} baud"


_PTY_NAME = re.compile(r"^/dev/(pts/\d+|ttys\d+)$")   # Linux (Unix 98) and macOS pty slaves


def _pty_identity(port: str, fd: int | None = None) -> tuple[int, int] | None:
    """(device number, inode change time in ns) when ``port`` is a
    pseudo-terminal's own node, else None (and None when it is not there now).
    Two terminals that held the same name in turn differ in the change time:
    it is set when the kernel creates the node, and reads, writes and termios
    settings leave it alone. A symbolic link (/dev/serial/by-id, a rig's
    stable name) is re-pointed on purpose by whoever keeps it when the device
    comes back, so a new terminal behind it is the puck, not a stranger."""
    try:
        if os.path.islink(port) or not _PTY_NAME.match(os.path.realpath(port)):
            return None
        st = os.fstat(fd) if fd is not None else os.stat(port)
    except (OSError, ValueError):
        return None
    return st.st_rdev, st.st_ctime_ns


def _why(e: BaseException) -> str:
    s = str(e)
    return s.split(": ", 1)[-1] if s.startswith("[Errno") else s or type(e).__name__


def open_url(url: str, path: str, params: dict[str, str]) -> Transport:
    check_params(url, params, {"baud"})
    if not path:
        raise TransportError(f"{url!r}: no port (e.g. serial:/dev/ttyACM0)")
    try:
        baud = int(params.get("baud", DEFAULT_BAUD))
    except ValueError:
        raise TransportError(f"{url!r}: baud {params['baud']!r} is not an integer") from None
    return SerialTransport(url, path, baud)
