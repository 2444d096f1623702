"""``genmedia plugins`` and ``genmedia version``."""

from __future__ import annotations

import sys
from typing import Any

import click

from genmedia import __version__, errors
from genmedia.cli import get_app, not_an_agent_tool
from genmedia.output import emit


def _render_plugins(doc: Any, console: Any) -> None:
    from rich.table import Table

    table = Table("plugin", "version", "built-in", "hooks", "error", box=None)
    for row in doc:
        table.add_row(
            row["name"],
            row.get("version") or "",
            "yes" if row["builtin"] else "",
            ", ".join(h.removeprefix("genmedia_") for h in row["hooks"]),
            row.get("error") or "",
        )
    console.print(table)


@click.group(invoke_without_command=True)
@click.pass_context
def plugins(ctx: click.Context) -> None:
    """List plugins: name, version, distribution, hooks, load errors.

    `genmedia plugins install NAME` and `genmedia plugins uninstall NAME` manage plugin
    packages in the Python environment genmedia runs in.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(plugins_list)


@plugins.command("list")
@click.pass_context
def plugins_list(ctx: click.Context) -> None:
    """List plugins (the same as `genmedia plugins`)."""
    from genmedia.plugins import describe_plugins

    app = get_app(ctx)
    emit(app, describe_plugins(app.pm), pretty=_render_plugins)


def _pip(app: Any, args: list[str]) -> tuple[int, str]:
    """``python -m pip ARGS`` with the interpreter running genmedia.

    Pretty mode: pip's output goes to stderr as it comes. JSON mode: it is captured (stderr
    holds nothing on success and exactly one error object on failure), and returned so a
    failure can carry its tail in ``details.pip_output``.
    """
    import subprocess

    cmd = [sys.executable, "-m", "pip", *args]
    if not app.json_mode:
        try:
            fileno = app.stderr.fileno()
        except (AttributeError, OSError, ValueError):
            fileno = None
        if fileno is not None:
            app.stderr.flush()
            done = subprocess.run(cmd, stdout=fileno, stderr=fileno, stdin=subprocess.DEVNULL)
            return done.returncode, ""
    captured = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    output = captured.stdout + captured.stderr
    if not app.json_mode:
        app.stderr.write(output)
    return captured.returncode, output


def _check_names(packages: tuple[str, ...]) -> None:
    """An empty or option-like name is a usage error, never handed to pip."""
    for name in packages:
        if not name.strip() or name.startswith("-"):
            raise errors.UsageError(
                f"Not a package name: {name!r}",
                {"packages": list(packages), "hint": "genmedia plugins install NAME"},
            )


def _entry_points() -> dict[str, str | None]:
    """Entry-point name -> distribution, for group ``genmedia``, read fresh from disk."""
    import importlib
    import importlib.metadata

    from genmedia.plugins import ENTRY_POINT_GROUP

    importlib.invalidate_caches()
    found: dict[str, str | None] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found[ep.name] = dist.metadata["Name"] if dist is not None else None
    return found


def _pip_failed(
    action: str, names: tuple[str, ...], code: int, output: str
) -> errors.GenmediaError:
    details: dict[str, Any] = {
        "packages": list(names),
        "pip_exit_code": code,
        "python": sys.executable,
    }
    if output:
        details["pip_output"] = output.strip().splitlines()[-20:]
    return errors.GenmediaError(f"pip {action} failed (exit code {code})", details)


def _render_change(doc: Any, console: Any) -> None:
    verb = "installed" if doc["action"] == "install" else "uninstalled"
    console.print(f"{verb}: {', '.join(doc['packages'])}")
    for key, label in (("added", "new plugins"), ("removed", "removed plugins")):
        if doc.get(key):
            console.print(f"{label}: {', '.join(doc[key])}")


@not_an_agent_tool("installs software into genmedia's environment (run it in a terminal)")
@plugins.command("install")
@click.argument("packages", nargs=-1, required=True, metavar="NAME...")
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade the packages if installed.")
@click.option(
    "-e", "--editable", is_flag=True, help="Install local project paths in editable mode."
)
@click.option("--force-reinstall", is_flag=True, help="Reinstall even if up to date.")
@click.pass_context
def plugins_install(
    ctx: click.Context,
    packages: tuple[str, ...],
    upgrade: bool,
    editable: bool,
    force_reinstall: bool,
) -> None:
    """Install plugin packages (PyPI names, paths, URLs) with pip, into the Python that
    runs genmedia.

    \b
    genmedia plugins install genmedia-example
    genmedia plugins install -e ./my-plugin/
    """
    app = get_app(ctx)
    _check_names(packages)
    before = _entry_points()
    args = ["install", "--disable-pip-version-check"]
    args += ["--upgrade"] * upgrade + ["--force-reinstall"] * force_reinstall
    for name in packages:
        args += ["-e", name] if editable else [name]
    code, output = _pip(app, args)
    if code != 0:
        raise _pip_failed("install", packages, code, output)
    after = _entry_points()
    doc = {
        "action": "install",
        "packages": list(packages),
        "added": sorted(set(after) - set(before)),
        "plugins": {name: dist for name, dist in sorted(after.items())},
    }
    emit(app, doc, pretty=_render_change)


@not_an_agent_tool("removes software from genmedia's environment (run it in a terminal)")
@plugins.command("uninstall")
@click.argument("packages", nargs=-1, required=True, metavar="NAME...")
@click.pass_context
def plugins_uninstall(ctx: click.Context, packages: tuple[str, ...]) -> None:
    """Uninstall plugin packages (distribution names) with pip, without asking."""
    import re

    from genmedia.plugins import DISTRIBUTION

    app = get_app(ctx)
    _check_names(packages)
    for name in packages:
        if re.sub(r"[-_.]+", "-", name).lower() == DISTRIBUTION:
            raise errors.UsageError(
                f"Refusing to uninstall {name}: that is genmedia itself",
                {"hint": f"run: {sys.executable} -m pip uninstall {DISTRIBUTION}"},
            )
    before = _entry_points()
    code, output = _pip(app, ["uninstall", "--disable-pip-version-check", "-y", *packages])
    if code != 0:
        raise _pip_failed("uninstall", packages, code, output)
    after = _entry_points()
    doc = {
        "action": "uninstall",
        "packages": list(packages),
        "removed": sorted(set(before) - set(after)),
        "plugins": {name: dist for name, dist in sorted(after.items())},
    }
    emit(app, doc, pretty=_render_change)


@click.command()
@click.pass_context
def version(ctx: click.Context) -> None:
    """Print genmedia's version, Python's and the plugins' versions."""
    import platform

    from genmedia.plugins import describe_plugins

    app = get_app(ctx)
    doc: dict[str, Any] = {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "plugins": {p.name: p.version for p in describe_plugins(app.pm) if p.error is None},
    }
    emit(app, doc, pretty=_render_version)


def _render_version(doc: Any, console: Any) -> None:
    console.print(f"genmedia {doc['version']} (Python {doc['python']}, {doc['platform']})")
    if doc.get("plugins"):
        from rich.table import Table

        table = Table("plugin", "version", box=None, pad_edge=False)
        for name, version in doc["plugins"].items():
            table.add_row(name, version or "")
        console.print(table)
