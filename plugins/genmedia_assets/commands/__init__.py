"""The ``genmedia assets`` command tree (click only at import time)."""

from __future__ import annotations

import click

from genmedia_assets.commands import characters, collections, library, tags


@click.group("assets")
def assets() -> None:
    """Browse, upload and organise the fal Assets library.

    Assets are addressed by --vector_id (anything in the library or a search result) or
    --request_id (the media of a `genmedia run`). Mutations send an Idempotency-Key and
    are retried safely.
    """


for _command in library.COMMANDS:
    assets.add_command(_command)
assets.add_command(tags.tags)
assets.add_command(collections.collections)
assets.add_command(characters.characters)

__all__ = ["assets"]
