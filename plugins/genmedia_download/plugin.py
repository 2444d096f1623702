"""Hook implementations of the download plugin."""
