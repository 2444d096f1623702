"""genmedia built-in plugin: history."""
