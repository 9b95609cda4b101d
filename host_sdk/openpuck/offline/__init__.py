"""offline layer of the SDK."""
