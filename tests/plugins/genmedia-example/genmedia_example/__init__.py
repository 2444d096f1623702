"""genmedia-example: a third-party plugin used by genmedia's own tests and docs tutorial."""

__version__ = "0.3.1"
