# Puck entry point: pick the board, run the app. On a board `make flash`
# writes board_config.py (BOARD = "pico_w"); without it the platform decides.
import sys


def board_module():
    try:
        import board_config  # type: ignore[import-not-found]
        name = board_config.BOARD
    except ImportError:
        name = {"linux": "sim", "rp2": "pico_w", "esp32": "esp32s3_devkit"}.get(sys.platform, "")
    if name == "pico_w":
        from boards import pico_w
        return pico_w
    if name == "esp32s3_devkit":
        from boards import esp32s3_devkit
        return esp32s3_devkit
    if name == "sim":
        from boards import sim
        return sim
    raise ImportError("no board file for %r" % name)


def main():
    board = board_module().make()
    hw = board.hw
    early = b""
    if hw.BOOT_WINDOW_MS:
        # mpremote's interrupt now drops to the REPL (make flash relies on it);
        # after this the app keeps keyboard interrupts off and starts the watchdog
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
