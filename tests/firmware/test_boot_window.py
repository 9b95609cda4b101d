# The boot window: mpremote's interrupt reaches the REPL, a host's frames do not. Pure logic.
from fwtest import check, done, eq
from openpuck_fw.boot_window import BootWindow
from openpuck_fw.protocol import Encoder


def fed(*chunks):
    w = BootWindow()
    for c in chunks:
        w.feed(c)
    return w


eq("mpremote's interrupt at the start", fed(b"\r\x03").interrupted, True)
eq("its interrupt after a frame's delimiter", fed(b"\x05\x01\x02\x03\x04\x00", b"\r", b"\x03").interrupted, True)
check("a bare Ctrl-C is not an interrupt", not fed(b"\x03\x03").interrupted)
check("\\r Ctrl-C inside a frame is not an interrupt", not fed(b"\x07\x01\x0d\x03\x02\x09\x08\x00").interrupted)
w = fed(b"\x00\x07\x01\x0d\x03\x02\x09\x08\x00")
eq("a frame sent during the boot is kept whole for the app", bytes(w.kept), b"\x00\x07\x01\x0d\x03\x02\x09\x08\x00")

# every get_info frame the SDK could send (every sequence number) passes the window
enc = Encoder()
bad = 0
for seq in range(0, 65536, 7):
    enc.seq = seq
    if fed(b"\x00" + enc.frame(0x4A, b"")).interrupted:
        bad += 1
eq("no command frame looks like mpremote", bad, 0)
done()
