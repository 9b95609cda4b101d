"""Headless Chromium from Python: find it, and print an HTML file to PDF.

The report (:mod:`openpuck.clinic.report`) prints through it: Chromium lays out
the page exactly as a browser shows it, with the report's print styles, so
the PDF needs no second layout engine. Nothing here is required: without
Chromium, :func:`find_chromium` returns None and :func:`print_pdf` raises
:class:`BrowserError` saying how to get it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import OpenPuckError

#: the environment variable naming a Chromium (or Chrome) binary to use
ENV_CHROMIUM = "OPENPUCK_CHROMIUM"
#: names tried on PATH, in order (Debian's, other distributions', Google's)
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = "install Chromium (Debian/Ubuntu: apt-get install chromium) or set OPENPUCK_CHROMIUM to a Chrome binary"


class BrowserError(OpenPuckError):
    """Chromium is missing, or it failed to do what was asked; the message says which."""


def find_chromium() -> str | None:
    """The Chromium binary to use: ``$OPENPUCK_CHROMIUM`` if set, else the first
    of :data:`NAMES` on PATH; None when there is none."""
    env = os.environ.get(ENV_CHROMIUM)
    if env:
        return shutil.which(env) or (env if os.access(env, os.X_OK) else None)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def headless_args(user_data_dir: str | os.PathLike) -> list[str]:
    """The flags for a quiet, offline, one-shot headless run with a fresh profile."""
    args = ["--headless", "--disable-gpu", "--no-first-run", "--disable-quic",
            # without these Chromium reaches for the network (updates, sync, field trials)
            # and, on a machine without one, waits for each attempt to time out
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={os.fspath(user_data_dir)}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")     # Chromium refuses to start as root with its sandbox on
    return args


def run_headless(url: str, extra: Sequence[str], *, chromium: str | None = None,
                 timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once on ``url`` with the flags ``extra``
    (``--dump-dom``, ``--screenshot=...``, ``--print-to-pdf=...``), in a
    throw-away profile; returns the finished process (stdout, stderr as text)."""
    binary = chromium or find_chromium()
    if binary is None:
        env = os.environ.get(ENV_CHROMIUM)
        if env:
            raise BrowserError(f"{ENV_CHROMIUM}={env}: no such program; unset it or name a Chromium binary")
        raise BrowserError(f"no Chromium found: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="openpuck-chromium-") as profile:
        try:
            return subprocess.run([binary, *headless_args(profile), *extra, url], capture_output=True,
                                  text=True, errors="replace", timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"{binary} did not finish within {timeout_s:g} s on {url}") from None
        except OSError as e:
            raise BrowserError(f"{binary}: cannot run it: {e.strerror or e}") from None


def print_pdf(html: str | os.PathLike, pdf: str | os.PathLike, *, chromium: str | None = None,
              timeout_s: float = 120.0) -> Path:
    """Print the HTML file ``html`` to ``pdf`` with headless Chromium (A4 or
    the page's own ``@page`` size, no browser header or footer); returns the
    PDF's path. Raises :class:`BrowserError` when Chromium is absent or fails."""
    src = Path(html).absolute()
    out = Path(pdf).absolute()
    if not src.is_file():
        raise BrowserError(f"{src}: no such file to print")
    if out.exists():
        out.unlink()        # so that a PDF left from before cannot pass for this one
    # --no-pdf-header-footer is today's name, --print-to-pdf-no-header the older
    # one; Chromium ignores a flag it does not know
    done = run_headless(src.as_uri(), [f"--print-to-pdf={out}", "--no-pdf-header-footer",
                                       "--print-to-pdf-no-header"], chromium=chromium, timeout_s=timeout_s)
    if not out.is_file() or out.stat().st_size == 0:
        tail = [line for line in done.stderr.splitlines() if "ERROR" in line and "dbus" not in line][-3:]
        raise BrowserError(f"Chromium wrote no PDF for {src} (exit {done.returncode})"
                           + (": " + " | ".join(tail) if tail else ""))
    return out
