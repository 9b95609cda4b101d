"""device layer of the SDK."""
