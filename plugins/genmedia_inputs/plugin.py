"""Hook implementations of the inputs plugin."""
