"""Names that the issue-21 splits moved to a new module stay importable from
the module they were in, as the same objects; the old module loads the new
one only when such a name is asked for (the new one imports the old)."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

MOVED = {
    "openpuck.device.pico": ("openpuck.device.pico_install", ["install", "cache_dir"]),
    "openpuck.device.decoder": ("openpuck.device.decoder_reference", ["PyStreamDecoder"]),
    "openpuck.offline.recording": ("openpuck.offline.session_load",
                                   ["Session", "Source", "open_source", "load_session"]),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_a_moved_name_is_the_same_object_from_its_old_module(old: str) -> None:
    new, names = MOVED[old]
    for name in names:
        assert getattr(importlib.import_module(old), name) is getattr(importlib.import_module(new), name)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_unknown_name_is_still_an_attribute_error(old: str) -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        importlib.import_module(old).no_such_name  # noqa: B018


@pytest.mark.parametrize("old", sorted(MOVED))
def test_the_old_module_loads_the_new_one_only_when_asked(old: str) -> None:
    # a fresh interpreter: this one may have loaded the new module already
    new, names = MOVED[old]
    code = (f"import sys, {old} as m\n"
            f"assert {new!r} not in sys.modules\n"
            f"from {old} import {names[0]}\n"
            f"assert {new!r} in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
