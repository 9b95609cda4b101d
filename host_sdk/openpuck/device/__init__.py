"""Talking to a puck: transports (serial, Bluetooth, the virtual puck, replay), the
stream and session decoders, events, :class:`~openpuck.device.puck.Puck` and its
asyncio face, keys, reconnection, the virtual puck and the emulated Pico."""
