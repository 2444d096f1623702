"""genmedia built-in plugin: assets."""
