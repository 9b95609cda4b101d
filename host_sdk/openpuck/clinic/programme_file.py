"""Home programme files: what a therapist writes (TOML), read and checked.

The format is described in docs/programmes.md; programmes/ at the repository
root has examples. In short::

    name = "Hand and arm, week 1"
    patient_note = "Sit at a table, forearm resting."

    [progression]              # optional: the defaults of openpuck.clinic.progression
    success_low = 0.7
    success_high = 0.9

    [[exercise]]               # one per exercise, in the order they are done
    name = "grip_squeeze"      # from the catalogue (openpuck.exercises.names())
    puck = "right_hand"        # or pucks = ["left_hand", "right_hand"] and a mode
    sets = 3
    reps = 10                  # or seconds = 60
    rest_s = 60
    target = 15                # N or degrees, "auto" or "last"

Every mistake is a :class:`ProgrammeError` that names the file and the line:
``week1.toml, line 12: sets must be a whole number from 1 to 50, got 0``.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]

from .. import exercises
from ..errors import OpenPuckError
from ..offline import validate
from . import units
from .programme_toml import _is_number, _Lines, _not_a_number, toml_text  # noqa: F401
from .progression import ProgressionRule

#: where a puck is: the patient's side and limb (a foot puck may also be strapped to that leg)
ROLES = ("left_hand", "right_hand", "left_foot", "right_foot")
#: how an exercise uses two pucks: both at once, or one after the other (alternate tapping)
MODES = ("bilateral", "alternate")
#: what a target may say besides a number
TARGET_WORDS = ("auto", "last")

_TOP_KEYS = ("name", "patient_note", "progression", "exercise")
_EXERCISE_KEYS = ("name", "puck", "pucks", "mode", "sets", "reps", "seconds", "rest_s", "target",
                  "min_target", "max_target", "unlock_after", "note")
_PROGRESSION_KEYS = ("success_low", "success_high", "step_up", "step_down", "unlock_sessions",
                     "min_attempts")
DEFAULT_REST_S = 60.0
_TOO_DEEP = ("not a programme: arrays or tables nested too deep to read (a programme nests "
             "two levels at most); check the file is the one you meant")
_MAX_DEPTH = 8       # the document, [[exercise]], its table and a pucks array are 4
MAX_SETS, MAX_REPS, MAX_SECONDS, MAX_REST_S, MAX_UNLOCK = 50, 500, 3600.0, 1800.0, 100


class ProgrammeError(OpenPuckError):
    """A programme file that cannot be used: the message names the file, the line and what to change."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        self.source, self.line, self.reason = source, line, reason
        super().__init__(f"{source}, line {line}: {reason}" if line else f"{source}: {reason}")


@dataclass(frozen=True)
class ProgrammeExercise:
    """One ``[[exercise]]`` of a programme, checked."""

    exercise: str                 #: a catalogue name (openpuck.exercises.get)
    sets: int
    reps: int | None              #: reps per set (each puck's, for two pucks); or None with seconds
    seconds: float | None         #: time per set; or None with reps
    rest_s: float                 #: rest after each set
    target: float | str           #: a number in the exercise's unit, "auto" or "last"
    pucks: tuple[str, ...]        #: one role, or two for a two-puck exercise (ROLES)
    unlock_after: int | None = None   #: None: open from the start; N: after N good sessions of the one before
    mode: str | None = None       #: two pucks: "bilateral" or "alternate"; one puck: None
    min_target: float | None = None   #: progression's floor (None: the unit's lowest)
    max_target: float | None = None   #: progression's ceiling (None: the unit's highest)
    note: str = ""                #: shown to the patient with this exercise
    line: int = 0                 #: where its [[exercise]] starts in the file (0: not from a file)

    @property
    def unit(self) -> str:
        """N, deg or mm: the catalogue exercise's unit."""
        return exercises.get(self.exercise).unit


@dataclass(frozen=True)
class Programme:
    """A whole programme file: its exercises in order and how targets progress."""

    name: str
    patient_note: str
    exercises: list[ProgrammeExercise]
    progression: ProgressionRule
    source: str = "<string>"

    def rule_for(self, exercise: ProgrammeExercise | int) -> ProgressionRule:
        """The programme's rule with this exercise's limits (its min/max_target,
        else the unit's whole range) and its unlock_after, for
        :mod:`openpuck.clinic.progression`."""
        ex = self.exercises[exercise] if isinstance(exercise, int) else exercise
        lo, hi = validate.TARGET_RANGE[ex.unit]
        return dataclasses.replace(
            self.progression,
            min_target=ex.min_target if ex.min_target is not None else lo,
            max_target=ex.max_target if ex.max_target is not None else hi,
            unlock_sessions=ex.unlock_after or self.progression.unlock_sessions)


def load(path: str | os.PathLike) -> Programme:
    """Read and check a programme file (UTF-8 TOML)."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ProgrammeError(source, None, f"cannot read it: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ProgrammeError(source, line, "not UTF-8 text: save the file as UTF-8") from None
    return loads(text, source=source)


def _too_deep(data: Any, limit: int) -> bool:
    """Whether arrays and tables nest more than ``limit`` levels (walked without recursion)."""
    todo = [(data, 0)]
    while todo:
        value, depth = todo.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value)
    return False


def loads(text: str, source: str = "<string>") -> Programme:
    """Check a programme given as TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ProgrammeError(source, None, _TOO_DEEP) from None
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line = getattr(e, "lineno", None) or (int(m.group(1)) if m else None)
        reason = re.sub(r"\s*\(at line \d+, column (\d+)\)", r" (column \1)", msg)
        raise ProgrammeError(source, line, f"not valid TOML: {reason}") from None
    # checked here, not left to a RecursionError: how deep tomllib gets depends on the
    # process's recursion limit, which a program (or a test run) may have raised
    if _too_deep(data, _MAX_DEPTH):
        raise ProgrammeError(source, None, _TOO_DEEP)
    try:
        return _Reader(data, _Lines(text), source).programme()
    except RecursionError:    # a value nested just short of tomllib's limit, shown in an error message
        raise ProgrammeError(source, None, _TOO_DEEP) from None


class _Reader:
    """Turns the parsed TOML into a Programme, raising at the first mistake."""

    def __init__(self, data: dict[str, Any], lines: _Lines, source: str) -> None:
        self.data, self.lines, self.source = data, lines, source

    def fail(self, table: tuple[str | None, int], key: str | None, reason: str) -> ProgrammeError:
        return ProgrammeError(self.source, self.lines.of(table, key), reason)

    def known_keys(self, table: tuple[str | None, int], got: dict[str, Any], allowed: tuple[str, ...],
                   where: str) -> None:
        for key in got:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
                raise self.fail(table, key, f"unknown key {key!r} {where}{hint}")

    def programme(self) -> Programme:
        top: tuple[str | None, int] = (None, 0)
        self.known_keys(top, self.data, _TOP_KEYS, "at the top of the programme")
        name = self.data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(top, "name", 'the programme needs a name, e.g. name = "Hand and arm, week 1"')
        note = self.data.get("patient_note", "")
        if not isinstance(note, str):
            raise self.fail(top, "patient_note", "patient_note must be text in quotes")
        rule = self.progression()
        entries = self.data.get("exercise")
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail(top, "exercise", "the programme needs at least one [[exercise]] table")
        exs = [self.exercise(i, e, rule) for i, e in enumerate(entries)]
        return Programme(name.strip(), note.strip(), exs, rule, self.source)

    def progression(self) -> ProgressionRule:
        table: tuple[str | None, int] = ("progression", 0)
        got = self.data.get("progression", {})
        if not isinstance(got, dict):
            raise self.fail((None, 0), "progression", "progression must be a table: [progression]")
        for key in ("min_target", "max_target"):
            if key in got:
                raise self.fail(table, key, f"{key} depends on the exercise's unit: set it in each [[exercise]]")
        self.known_keys(table, got, _PROGRESSION_KEYS, "in [progression]")
        for key, value in got.items():
            if not _is_number(value):
                raise self.fail(table, key, _not_a_number(f"{key} must be a number, got -", value))
        try:
            return ProgressionRule(**got)
        except validate.InvalidValue as e:
            # the rule's messages start with the field at fault
            raise self.fail(table, str(e).split()[0], str(e)) from None

    def exercise(self, i: int, e: dict[str, Any], rule: ProgressionRule) -> ProgrammeExercise:
        table: tuple[str | None, int] = ("exercise", i)
        self.known_keys(table, e, _EXERCISE_KEYS, f"in [[exercise]] {i + 1}")

        def check(key: str, fn: Any, *args: Any) -> Any:
            if not _is_number(e[key]):
                # validate reads "3" as 3 (it also reads the command line): a file says what it means
                try:
                    fn(key, None, *args)
                except validate.InvalidValue as err:
                    raise self.fail(table, key, _not_a_number(str(err), e[key])) from None
            try:
                return fn(key, e[key], *args)
            except validate.InvalidValue as err:
                raise self.fail(table, key, str(err)) from None

        if "name" not in e:
            raise self.fail(table, None, f'[[exercise]] {i + 1} needs a name, e.g. name = "grip_squeeze"')
        try:
            if not isinstance(e["name"], str):      # exercises.get would take a number as a catalogue id
                raise exercises.UnknownExercise(f"name must be an exercise's name in quotes, "
                                                f"got {toml_text(e['name'])}")
            cat = exercises.get(e["name"])
        except exercises.UnknownExercise as err:
            close = difflib.get_close_matches(str(e["name"]).strip(), exercises.names(), n=3, cutoff=0.7)
            if close and isinstance(e["name"], str):
                raise self.fail(table, "name", f"unknown exercise {toml_text(e['name'])}; did you mean "
                                               f"{' or '.join(toml_text(c) for c in close)}?") from None
            raise self.fail(table, "name", str(err)) from None

        pucks, mode = self.pucks(table, e, cat)
        if "sets" not in e:
            raise self.fail(table, None, f"{cat.name} needs sets = a whole number from 1 to {MAX_SETS}")
        sets = check("sets", validate.whole, 1, MAX_SETS)
        if ("reps" in e) == ("seconds" in e):
            key = "seconds" if "reps" in e else None
            raise self.fail(table, key, f"{cat.name} needs either reps = N (reps per set) or seconds = S "
                                        f"(time per set), not {'both' if key else 'neither'}")
        reps = check("reps", validate.whole, 1, MAX_REPS) if "reps" in e else None
        secs = check("seconds", validate.number, 1.0, MAX_SECONDS, "s") if "seconds" in e else None
        rest = check("rest_s", validate.number, 0.0, MAX_REST_S, "s") if "rest_s" in e else DEFAULT_REST_S

        limits = validate.TARGET_RANGE[cat.unit]
        lo = check("min_target", validate.number, *limits, cat.unit) if "min_target" in e else None
        hi = check("max_target", validate.number, *limits, cat.unit) if "max_target" in e else None
        if lo is not None and hi is not None and lo > hi:
            raise self.fail(table, "max_target", f"max_target must be at least min_target ({lo:g}), got {hi:g}")
        target = self.target(table, e, cat.unit, lo, hi)

        unlock = None
        if "unlock_after" in e:
            if e["unlock_after"] is True:
                unlock = rule.unlock_sessions
            elif e["unlock_after"] is not False:
                unlock = check("unlock_after", validate.whole, 1, MAX_UNLOCK)
            if unlock is not None and i == 0:
                raise self.fail(table, "unlock_after", "the first exercise cannot wait to be unlocked: "
                                                       "unlock_after needs an exercise before it")
        note = e.get("note", "")
        if not isinstance(note, str):
            raise self.fail(table, "note", "note must be text in quotes")
        return ProgrammeExercise(cat.name, sets, reps, secs, rest, target, pucks, unlock, mode, lo, hi,
                                 note.strip(), self.lines.of(table) or 0)

    def target(self, table: tuple[str | None, int], e: dict[str, Any], unit: str,
               lo: float | None, hi: float | None) -> float | str:
        value = e.get("target", "last")
        if isinstance(value, str) and value.strip().lower() in TARGET_WORDS:
            return value.strip().lower()
        words = " or ".join(toml_text(w) for w in TARGET_WORDS)
        if not _is_number(value):
            lo_, hi_ = validate.TARGET_RANGE[unit]
            raise self.fail(table, "target", _not_a_number(
                f"target must be a number from {lo_:g} to {units.amount(hi_, unit, digits=0)}, {words}, got -",
                value))
        try:
            v = validate.target(value, unit)
        except validate.InvalidValue as err:
            raise self.fail(table, "target", str(err).replace("or 'auto'", f"or {words}")) from None
        assert isinstance(v, float)     # None and "auto" were handled above
        if lo is not None and v < lo:
            raise self.fail(table, "target", f"target must be at least min_target ({lo:g}), got {v:g}")
        if hi is not None and v > hi:
            raise self.fail(table, "target", f"target must be at most max_target ({hi:g}), got {v:g}")
        return v

    def pucks(self, table: tuple[str | None, int], e: dict[str, Any],
              cat: exercises.Exercise) -> tuple[tuple[str, ...], str | None]:
        if ("puck" in e) == ("pucks" in e):
            raise self.fail(table, "pucks" if "puck" in e else None,
                            f'{cat.name} needs either puck = "right_hand" (one of {", ".join(ROLES)}) '
                            f'or pucks = ["left_hand", "right_hand"] for two, not '
                            f'{"both" if "puck" in e else "neither"}')
        key = "puck" if "puck" in e else "pucks"
        raw = [e["puck"]] if key == "puck" else e["pucks"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= 2 or len(set(map(str, raw))) != len(raw):
            raise self.fail(table, key, f"pucks must list one or two different pucks, got {toml_text(e[key])}")
        limb = _limb(cat)
        for role in raw:
            if role not in ROLES:
                close = difflib.get_close_matches(str(role), ROLES, n=1)
                hint = f"did you mean {toml_text(close[0])}? " if close else ""
                raise self.fail(table, key, f"unknown puck {toml_text(role)}; {hint}choose from {', '.join(ROLES)}")
            if not role.endswith("_" + limb):
                raise self.fail(table, key, f"{cat.name} is done with a {limb} ({cat.placement}): "
                                            f"the puck must be left_{limb} or right_{limb}, got {toml_text(role)}")
        mode = e.get("mode")
        if len(raw) == 2 and mode not in MODES:
            raise self.fail(table, "mode" if "mode" in e else key,
                            f"two pucks need mode = \"bilateral\" (both at once) or \"alternate\" "
                            f"(one after the other), got "
                            f"{toml_text(mode) if 'mode' in e else 'no mode'}")
        if len(raw) == 1 and mode is not None:
            raise self.fail(table, "mode", f"mode is for two pucks (pucks = [..., ...]); {cat.name} has one")
        return tuple(raw), mode


def _limb(cat: exercises.Exercise) -> str:
    """hand or foot: which pucks an exercise can use, from its catalogue placement
    (on, under or strapped to the foot, shin or leg: a foot puck; else one in or at the hand)."""
    return "foot" if re.search(r"\b(foot|shin|leg)\b", cat.placement) else "hand"
