"""genmedia built-in plugin: fal."""
