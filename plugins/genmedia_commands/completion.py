"""``genmedia completion bash|zsh|fish``: the shell completion script (click's).

Completion itself runs through click: the shell calls ``genmedia`` with
``_GENMEDIA_COMPLETE=<shell>_complete`` and the words typed so far. Endpoint ids and model
input names come from :mod:`genmedia_commands.endpoints` (offline, never the network).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from genmedia.cli import not_an_agent_tool

if TYPE_CHECKING:  # pragma: no cover
    from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_GENMEDIA_COMPLETE"


@not_an_agent_tool("shell completion scripts")
@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL; load it from your shell's start-up file.

    \b
    bash:  eval "$(genmedia completion bash)"          in ~/.bashrc
    zsh:   eval "$(genmedia completion zsh)"           in ~/.zshrc
    fish:  genmedia completion fish > ~/.config/fish/completions/genmedia.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - the Choice above only allows click's shells
        raise click.BadParameter(shell)
    root = ctx.find_root().command
    # The script is the output in every mode: it is shell code, not a JSON document.
    click.echo(cls(root, {}, "genmedia", COMPLETE_VAR).source())


def complete_endpoint(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``shell_complete`` for ENDPOINT arguments: endpoint ids known offline."""
    from click.shell_completion import CompletionItem

    from genmedia.cli import get_app
    from genmedia_commands.endpoints import endpoint_ids

    return [CompletionItem(e) for e in endpoint_ids(get_app(ctx), incomplete)]


def complete_model_inputs(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    """``--name`` flags of the model named by the command's ENDPOINT argument."""
    from click.shell_completion import CompletionItem

    from genmedia_commands.endpoints import input_names

    endpoint = ctx.params.get("endpoint_id")
    if not isinstance(endpoint, str) or not incomplete.startswith("-"):
        return []
    from genmedia.cli import get_app

    flags = (f"--{name}" for name in input_names(get_app(ctx), endpoint))
    return [CompletionItem(f, help="model input") for f in flags if f.startswith(incomplete)]
