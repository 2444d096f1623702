"""genmedia built-in plugin: download."""
