"""Admin operations."""
