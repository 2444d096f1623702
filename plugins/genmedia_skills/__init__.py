"""genmedia's skill for coding agents: ``genmedia init`` and ``genmedia skills``."""
