"""The ``genmedia assets`` command tree (click only at import time).

Each group module holds the commands that are its own; the ``get`` / ``delete`` /
``favorite`` / ``unfavorite`` commands every resource shares are built from the table in
:mod:`.resources` and added here.
"""

from __future__ import annotations

import click

from genmedia_fal.assets.commands import characters, collections, library, resources, tags


@click.group("assets")
def assets() -> None:
    """Browse, upload and organise the fal Assets library.

    Assets are addressed by --vector_id (anything in the library or a search result) or
    --request_id (the media of a `genmedia run`). Mutations send an Idempotency-Key and
    are retried safely.
    """


for _command in library.COMMANDS:
    assets.add_command(_command)
for _group in (tags.tags, collections.collections, characters.characters):
    assets.add_command(_group)
for _group, _resource in (
    (assets, resources.LIBRARY),
    (tags.tags, resources.TAGS),
    (collections.collections, resources.COLLECTIONS),
    (characters.characters, resources.CHARACTERS),
):
    for _command in resources.commands_for(_resource):
        _group.add_command(_command)

__all__ = ["assets"]
