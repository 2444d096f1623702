"""Hook implementations of the fal plugin."""
