# The BLE link: a serial service in the Nordic UART Service layout.
#   service 6E400001-B5A3-F393-E0A9-E50E24DCCA9E
#   RX      6E400002-...  the host writes command bytes here
#   TX      6E400003-...  the puck notifies frame bytes here, chunked to MTU - 3
# Same frames as on USB; a frame may span several notifications.
from micropython import const

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_FLAG_WRITE = const(0x0008)
_FLAG_WRITE_NO_RESPONSE = const(0x0004)
_FLAG_NOTIFY = const(0x0010)
_ADV_INTERVAL_US = const(100000)
_RX_BUFFER = const(256)
_DEFAULT_MTU = const(23)
_WANT_MTU = const(247)

NUS_UUID = "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"
NUS_RX_UUID = "6E400002-B5A3-F393-E0A9-E50E24DCCA9E"
NUS_TX_UUID = "6E400003-B5A3-F393-E0A9-E50E24DCCA9E"


def _adv_field(kind, data):
    return bytes((len(data) + 1, kind)) + data


def advertising_payload(name):
    flags = _adv_field(0x01, b"\x06")                 # general discoverable, no BR/EDR
    return flags + _adv_field(0x09, name.encode()[:20])  # complete local name


def uuid128_le(text):
    """A 128-bit UUID string as the 16 little-endian bytes advertising data carries."""
    from binascii import unhexlify
    b = unhexlify(text.replace("-", ""))
    return bytes(b[15 - i] for i in range(16))


def scan_response_payload():
    return _adv_field(0x07, uuid128_le(NUS_UUID))   # complete list of 128-bit UUIDs


class BleLink:
    name = "ble"

    def __init__(self, device_name):
        import bluetooth
        self._bt = bluetooth
        self._ble = bluetooth.BLE()
        self._ble.active(True)
        self._ble.config(gap_name=device_name)
        try:
            self._ble.config(mtu=_WANT_MTU)
        except (ValueError, OSError):
            pass
        self._ble.irq(self._irq)
        tx = (bluetooth.UUID(NUS_TX_UUID), _FLAG_NOTIFY)
        rx = (bluetooth.UUID(NUS_RX_UUID), _FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE)
        ((self._tx_handle, self._rx_handle),) = self._ble.gatts_register_services(
            ((bluetooth.UUID(NUS_UUID), (tx, rx)),))
        self._ble.gatts_set_buffer(self._rx_handle, _RX_BUFFER, True)
        self._conn = None
        self._mtu = _DEFAULT_MTU
        self._rx = bytearray()
        self.connected = False
        self.tx_bytes = 0
        self.tx_dropped = 0
        self._adv = advertising_payload(device_name)
        self._resp = scan_response_payload()
        self._advertise()

    def _advertise(self):
        self._ble.gap_advertise(_ADV_INTERVAL_US, self._adv, resp_data=self._resp)

    def _irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self._conn = data[0]
            self._mtu = _DEFAULT_MTU
            self.connected = True
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self._conn = None
            self.connected = False
            self._rx = bytearray()
            self._advertise()
        elif event == _IRQ_GATTS_WRITE:
            if data[1] == self._rx_handle:
                self._rx += self._ble.gatts_read(self._rx_handle)
        elif event == _IRQ_MTU_EXCHANGED:
            self._mtu = data[1]

    def read(self, max_bytes=64):
        if not self._rx:
            return b""
        out = bytes(self._rx[:max_bytes])
        self._rx = self._rx[max_bytes:]
        return out

    def write(self, frame):
        """Notify the frame in chunks of MTU - 3 bytes; dropped when no central is connected."""
        conn = self._conn
        if conn is None:
            self.tx_dropped += 1
            return
        chunk = self._mtu - 3
        mv = memoryview(frame)
        n = len(frame)
        i = 0
        try:
            while i < n:
                # (the stubs list gatts_notify without its connection handle; MicroPython takes it first)
                self._ble.gatts_notify(conn, self._tx_handle, bytes(mv[i:i + chunk]))  # type: ignore[call-arg,arg-type]
                i += chunk
        except OSError:
            self.tx_dropped += 1
            return
        self.tx_bytes += n

    def flush(self):
        pass

    def close(self):
        self._ble.active(False)
