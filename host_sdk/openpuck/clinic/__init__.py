"""clinic layer of the SDK."""
