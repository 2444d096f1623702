"""Hook implementations of the assets plugin."""
