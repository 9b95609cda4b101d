"""The TOML text of a programme file, as its errors quote it.

tomllib gives values without their lines or their spelling: :class:`_Lines`
finds the line of each key and table, :func:`toml_text` writes a value back
as the therapist wrote it, so :mod:`openpuck.clinic.programme_file` can say
``week1.toml, line 12: sets must be ..., got "3"``.
"""
from __future__ import annotations

import json
import re
from typing import Any


def toml_text(value: Any) -> str:
    """A value as it is written in the file (TOML): ``true``, ``"3"``, ``["a", "b"]``,
    so an error quotes what the therapist wrote, not Python's spelling of it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _not_a_number(reason: str, value: Any) -> str:
    """``reason`` (validate's message for a value that is no number) with the
    value as written, and for a number in quotes how to write it."""
    head = reason.rsplit(", got ", 1)[0]
    hint = " (a number is written without quotes)" if isinstance(value, str) and _numeric(value) else ""
    return f"{head}, got {toml_text(value)}{hint}"


class _Lines:
    """Where each key and table header of a TOML text is, by line.

    tomllib gives values without positions, so this scans the text: a table
    header (``[name]``, ``[[name]]``) opens a table, and ``key =`` at the start
    of a line is a key in it. Multi-line strings are skipped. Good enough for
    the files people write; a key it cannot place falls back to its table's
    header."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_-]+)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str | None, int], dict[str, int]] = {(None, 0): {}}
        self.headers: dict[tuple[str | None, int], int] = {}
        seen: dict[str, int] = {}
        table: tuple[str | None, int] = (None, 0)
        in_string: str | None = None
        for n, line in enumerate(text.splitlines(), 1):
            if in_string:
                if line.count(in_string) % 2:
                    in_string = None
                continue
            if h := self._HEADER.match(line):
                name = h.group(2)
                index = seen.get(name, -1) + 1 if h.group(1) == "[[" else 0
                seen[name] = index
                table = (name, index)
                self.headers[table] = n
                self.keys.setdefault(table, {})
            elif k := self._KEY.match(line):
                self.keys[table].setdefault(k.group(1).strip("\"'"), n)
            for quotes in ('"""', "'''"):
                if line.count(quotes) % 2:
                    in_string = quotes

    def of(self, table: tuple[str | None, int], key: str | None = None) -> int | None:
        """The line of ``key`` in ``table`` (None: the table's header)."""
        if key is not None and key in self.keys.get(table, {}):
            return self.keys[table][key]
        if key is not None and table == (None, 0) and (key, 0) in self.headers:
            return self.headers[(key, 0)]      # a top-level key written as a table: [name] or [[name]]
        if table not in self.headers and table[0] is not None:
            return self.keys[(None, 0)].get(table[0])   # a table written inline: exercise = [{...}]
        return self.headers.get(table)
