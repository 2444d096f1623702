"""Hook implementations of the history plugin."""
