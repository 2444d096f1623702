"""genmedia's built-in ``webhooks`` plugin: ``genmedia webhook verify`` and ``listen``."""
