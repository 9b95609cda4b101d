# Puck entry point: pick the board, run the app. On a board `make flash`
# writes board_config.py (BOARD = "pico_w"); without it the platform decides.
import sys

import micropython

# Ctrl-C off before anything else: a host's frames may hold 0x03 anywhere, and
# one that came while the firmware still imported stopped it at the REPL for
# good (a host asking for status while the puck rebooted did, on the emulated
# Pico). The boot window below is the one way to the REPL: mpremote's "\r\x03".
micropython.kbd_intr(-1)


def load_board(name):
    """The board file boards/<name>.py; it must declare that NAME."""
    try:
        mod = __import__("boards." + name, None, None, ("make",))
    except ImportError as e:
        raise ImportError("no board file boards/%s.py (%r); flash the firmware with "
                          "make flash BOARD=<a file in firmware/boards>" % (name, e))
    if getattr(mod, "NAME", None) != name:
        raise ImportError("boards/%s.py declares NAME %r" % (name, getattr(mod, "NAME", None)))
    return mod


def board_module():
    """The board named by board_config.py (make flash writes it), else the
    board file whose PLATFORM is this port's (the virtual puck: sim)."""
    try:
        import board_config  # type: ignore[import-not-found]
    except ImportError:
        board_config = None
    if board_config is not None:
        return load_board(board_config.BOARD)
    import os

    import boards
    folder = boards.__path__   # MicroPython: a package's __path__ is its folder, a str
    names = sorted(set(f.rsplit(".", 1)[0] for f in os.listdir(folder)  # type: ignore[call-overload]
                       if f.endswith((".py", ".mpy")) and f[0] != "_"))
    for name in names:   # helpers (sim_*) sort after the board files they serve
        mod = __import__("boards." + name, None, None, ("make",))
        if getattr(mod, "PLATFORM", None) == sys.platform and hasattr(mod, "make"):
            return mod
    raise ImportError("no board_config.py and no board file for platform %r" % sys.platform)


def main():
    board = board_module().make()
    hw = board.hw
    early = b""
    if hw.BOOT_WINDOW_MS:
        # mpremote's "\r\x03" now drops to the REPL (make flash relies on it);
        # after this the app starts the watchdog
        from openpuck_fw import boot_window
        early = boot_window.wait(hw, sys.stdin, hw.BOOT_WINDOW_MS)
        if early is True:
            raise KeyboardInterrupt
    from openpuck_fw.app import App
    for link in board.links:
        if early and link.name == "usb":
            link.pending = early     # what the host sent while the puck booted
    app = App(board, hw.reset_cause())
    try:
        app.run()
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - the puck must come back, whatever failed
        if hw.IS_SIM:
            sys.print_exception(e, sys.stderr)  # type: ignore[attr-defined,arg-type]
        try:
            from openpuck_fw import msgtable as mt
            app.log(mt.LOG_LEVEL_ERROR, "crash: %r" % (e,))
        except Exception:  # noqa: BLE001
            pass
        hw.sleep_ms(100)
        hw.reset()


main()
