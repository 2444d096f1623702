"""Every genmedia hook, with its parameters, return value and call semantics.

Implementations are marked with :data:`genmedia.hookimpl` and take only the parameters they
need (pluggy passes arguments by name). Never give an implementation's parameters default
values. Built-in plugins are registered first, in this order: ``commands``, ``inputs``, ``fal``,
``download``, ``sandbox``, ``history``, ``gallery``, ``routing``, ``skills``, ``mcp``,
``webhooks``, ``batch``; then third-party entry points (group ``genmedia``). pluggy calls
1:N hooks in LIFO registration order, so third-party implementations run before built-ins
unless they ask for ``trylast``; the core's fallbacks are ``trylast``.

The ``ctx`` argument is always the :class:`genmedia.context.AppContext` of the invocation:
settings, output mode, streams, the plugin manager and the shared HTTP client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from genmedia.config import Settings
    from genmedia.configkeys import ConfigKey
    from genmedia.context import AppContext
    from genmedia.provider import Provider
    from genmedia.records import RunQuery, RunRecord
    from genmedia.types import (
        ErrorReport,
        FieldSchema,
        JobHandle,
        JobStatus,
        ModelSchema,
        Route,
        RunRequest,
        RunResult,
    )

hookspec = pluggy.HookspecMarker("genmedia")


# --------------------------------------------------------------------------- setup


@hookspec(historic=True)
def genmedia_configure(config: Settings) -> None:
    """Read (and, for plugins that redirect hosts, adjust) the process settings.

    :param config: the :class:`genmedia.config.Settings`; ``config.options`` holds the
        global options. A plugin may ``set_host``, ``set_credential``, add ``marks`` (JSON
        keys), ``banners`` (stderr lines) and extend ``invocation`` (the sandbox does all).

    Semantics: *historic* — called once when plugins are loaded, and replayed for any plugin
    registered later, so every plugin sees the settings exactly once. Return value ignored.
    """


@hookspec
def genmedia_register_commands(cli: click.Group) -> None:
    """Add commands or command groups to the root ``genmedia`` group.

    :param cli: the root :class:`click.Group`; call ``cli.add_command(...)``.

    Semantics: 1:N, every implementation is called once, on the first command lookup (so
    ``genmedia --version`` loads no plugin), in pluggy's order: entry points first, then
    built-ins, the core last. While the hook runs, the first command added under a name
    wins, so a third-party plugin replaces a built-in command by adding one with the same
    name. Guarded: an implementation that raises becomes a warning. Return value ignored.
    """


@hookspec
def genmedia_add_options(command_name: str) -> Sequence[click.Parameter] | None:
    """Contribute options to a core command (``run`` or ``status``), or global options.

    :param command_name: ``"run"`` or ``"status"``; ``"genmedia"`` for global options.
    :returns: click parameters to append (e.g. ``click.Option(["--download"], ...)``), or
        None. Their parsed values arrive in :attr:`RunRequest.extra` (``run``) or in the
        ``extra`` mapping passed to sinks (``status``), keyed by parameter name.

    Semantics: 1:N, guarded; the lists are concatenated. Called once per command construction.
    """


# --------------------------------------------------------------------------- discovery


@hookspec
def genmedia_register_providers(register: Callable[[Provider], None], ctx: AppContext) -> None:
    """Hand provider objects (model hosts) to the core.

    :param register: call ``register(provider)`` for each :class:`genmedia.provider.Provider`.
        Implementations are called in pluggy's order — later-registered plugins first, so
        third-party plugins before built-ins — and the first registration of a ``name``
        wins: a third-party plugin overrides a built-in provider by using its name.
    :param ctx: the application context (read settings; do not open connections yet).

    Semantics: 1:N, called once, lazily, the first time a command needs a provider.
    """


@hookspec(firstresult=True)
def genmedia_resolve_provider(
    endpoint_id: str, providers: Mapping[str, Provider], ctx: AppContext
) -> Provider | None:
    """Choose the provider for ``endpoint_id``.

    :param endpoint_id: the id as typed (it may carry a ``scheme:`` prefix).
    :param providers: every registered provider by name.
    :returns: a provider, or None for "not mine".

    Semantics: firstresult; not called at all when ``--provider NAME`` chose one. The
    core's ``trylast`` fallback uses a ``scheme:`` prefix matching a provider's
    ``schemes``, then the first provider whose ``claims(endpoint_id)`` is true, asking
    providers with ``catch_all = True`` (fal claims everything) last. Implement this to
    route by your own rule.
    """


@hookspec(firstresult=True)
def genmedia_get_schema(
    endpoint_id: str, provider: Provider, ctx: AppContext, refresh: bool
) -> ModelSchema | None:
    """Return the model's input/output schema.

    :param refresh: true when a cached copy must not be used (``--refresh-schema``, or a
        run whose input a cached schema rejected): fetch it again.
    :returns: a :class:`ModelSchema`, or None to let the next implementation answer.

    Semantics: firstresult. The core's ``trylast`` fallback calls ``provider.schema()``;
    a ``tryfirst`` implementation can serve a cache hit (mark it ``from_cache=True``).
    """


@hookspec(firstresult=True)
def genmedia_find_job(reference: str, ctx: AppContext) -> JobHandle | None:
    """Find a job the user refers to without naming its endpoint.

    :param reference: a request id, or ``"last"`` for the most recent job.
    :returns: the :class:`JobHandle`, or None when this plugin does not know the job.

    Why a hook: ``genmedia status REQUEST_ID`` and ``status last`` need someone who
    remembers jobs; the built-in ``history`` journal answers, and another store could.

    Semantics: firstresult. With no answer the command asks for ``ENDPOINT REQUEST_ID``.
    """


@hookspec(firstresult=True)
def genmedia_list_runs(query: RunQuery, ctx: AppContext) -> Sequence[RunRecord] | None:
    """List remembered runs, newest first.

    :param query: the :class:`genmedia.records.RunQuery` filters (endpoint, statuses,
        since, prompt text, batch id, limit).
    :returns: :class:`genmedia.records.RunRecord` objects (input, result, saved files), or
        None when this plugin keeps no runs.

    Why a hook: a plugin that shows or exports past runs (the built-in ``gallery``) must
    not import the plugin that stores them; the built-in ``history`` journal answers, and
    another store could.

    Semantics: firstresult. With no answer there are no runs (an empty list).
    """


@hookspec(firstresult=True)
def genmedia_route(
    prompt: str | None, inputs: Mapping[str, str], modality: str | None, ctx: AppContext
) -> Route | None:
    """Choose the model for a run given without an endpoint: ``genmedia run "a prompt"``.

    :param prompt: the text the user gave (the positional argument, or ``--prompt``), or
        None when only inputs were given.
    :param inputs: the other model inputs as typed, name → raw value (``image_url``,
        ``audio_url`` …); their names refine the modality (an image turns a video request
        into image-to-video).
    :param modality: the modality the user asked for with ``--route`` (``video``, ``edit``
        …), or None to classify the prompt.
    :returns: a :class:`genmedia.types.Route` (``modality``, ``endpoint_id``, ``source``,
        ``from_prompt``, ``reason``, and ``prompt_field``: the input that receives the
        prompt, None to drop it), or None for "not mine".

    Why a hook: which model is "the" video model is a choice (price, quality, a house
    preference) that plugins should be able to make; the built-in ``routing`` plugin
    classifies the prompt and reads its defaults table and the config file's
    ``routing.<modality>`` overrides.

    Semantics: firstresult; called only when ``run`` has no endpoint id (the positional
    holds no ``/`` or is missing). The built-in implementation is ``trylast``, so any
    plugin answers first; raise :class:`genmedia.errors.UsageError` when a route cannot be
    chosen. The core reports the route as ``routed`` in the output and, in pretty mode, a
    one-line notice on stderr.
    """


@hookspec(firstresult=True)
def genmedia_infer_category(query: str, ctx: AppContext) -> str | None:
    """The category a ``models`` query describes (``"a video of a cat"`` → ``text-to-video``,
    the output's ``inferred_category``), or None to search the words as given.

    Why a hook: reading words is the ``routing`` plugin's classifier's job, not the core's.
    Semantics: firstresult, not called with ``--category``/``--no-classify``/ids/a cursor;
    the built-in implementation is ``trylast``."""


@hookspec
def genmedia_config_keys() -> Sequence[ConfigKey] | None:
    """Declare settings that ``genmedia config list|get|set|unset`` manages.

    :returns: :class:`genmedia.configkeys.ConfigKey` objects (name, place in
        ``config.json``, parser, default, help), or None. A plugin keeps its keys under
        ``("plugins", <plugin name>, …)`` and reads them with ``Settings.plugin_config``.

    Semantics: 1:N; the lists are concatenated after the core's keys, and the first key of
    a name wins. Called by the ``config`` command and its shell completion.
    """


@hookspec
def genmedia_offline_catalog() -> Mapping[str, Sequence[str]] | None:
    """Endpoints this plugin knows without the network, for shell completion.

    :returns: endpoint id -> its model input names (``[]`` when unknown), or None.

    Semantics: 1:N; merged with the completion cache (what ``models`` and ``schema`` saw).
    Called on a TAB press, so it must be quick and must not touch the network. The
    built-in ``sandbox`` plugin returns its bundled catalogue.
    """


# --------------------------------------------------------------------------- input


@hookspec(firstresult=True)
def genmedia_coerce_argument(
    name: str, raw: str, field: FieldSchema | None, ctx: AppContext
) -> Any:
    """Turn one command-line value into a typed model input.

    :param name: the input name (``--prompt`` → ``"prompt"``).
    :param raw: the string as typed (``@path`` and ``-`` not yet expanded).
    :param field: the schema field, or None when the schema has no such field.
    :returns: the typed value, or None for "not mine". Return :data:`JSON_NULL` to set
        the input to JSON ``null``.

    Semantics: firstresult. Built-in ``inputs`` types values by the schema; the core's
    ``trylast`` fallback keeps the raw string.
    """


#: Return this from ``genmedia_coerce_argument`` to set an input to JSON null (None means
#: "not mine" for a firstresult hook).
JSON_NULL: Any = type("JsonNull", (), {"__repr__": lambda self: "JSON_NULL"})()


@hookspec
def genmedia_prepare_request(
    request: RunRequest, schema: ModelSchema | None, provider: Provider, ctx: AppContext
) -> None:
    """Finish the request before anything is paid for: mutate ``request.input`` in place.

    Built-in ``inputs`` uploads local files given for URL fields (replacing them with URLs
    and recording :attr:`RunRequest.uploads`) and validates the input against ``schema``,
    raising :class:`genmedia.errors.ValidationError` with ``validation_errors``.

    :param schema: the model schema, or None when the provider has none.

    Semantics: 1:N, mutate in place (pytest's ``collection_modifyitems`` style). Raise to
    abort the run; nothing has been submitted yet.
    """


# --------------------------------------------------------------------------- execution


@hookspec(firstresult=True)
def genmedia_execute(
    request: RunRequest, provider: Provider, handle: JobHandle | None, ctx: AppContext
) -> RunResult | None:
    """Run the job: submit (unless ``handle`` names an existing job), wait, fetch the result.

    :param handle: None for ``run``: submit ``request``. A :class:`JobHandle` for
        ``status … --wait`` / ``--result`` (and sinks' options): follow that existing job
        instead; ``request.options.wait`` is false when only the result is fetched.
    :returns: the :class:`RunResult`.

    Semantics: firstresult. The core's ``trylast`` implementation submits, calls
    ``genmedia_job_submitted`` (also when reattaching), follows ``provider.watch`` (calling
    ``genmedia_job_progress``), enforces ``--timeout``, handles Ctrl-C (printing the request
    id and the resume command; cancelling with ``--cancel-on-interrupt``), fetches the
    result and calls ``genmedia_job_finished`` with how it ended. ``run`` and ``status``
    both come through here, so they wait the same way. Plugins add around-advice with
    ``@hookimpl(wrapper=True)`` (they must ``yield``), e.g. timing; a ``tryfirst``
    implementation may replace execution entirely (a cache, a dry run).
    """


@hookspec
def genmedia_job_submitted(handle: JobHandle, request: RunRequest, ctx: AppContext) -> None:
    """A job exists: its request id is known, before any waiting.

    Why a hook of its own: the journal must record a paid job the moment it exists, exactly
    once, even if the process is killed during the first status poll.

    Semantics: 1:N notification, guarded: an implementation that raises becomes a warning
    (pluggy still calls the others, and wrappers see the call). Also called when
    ``status`` reattaches to a job (``handle`` given to ``genmedia_execute``).
    """


@hookspec
def genmedia_job_finished(
    handle: JobHandle,
    request: RunRequest,
    outcome: str,
    error: BaseException | None,
    ctx: AppContext,
) -> None:
    """The wait for a job ended, one way or another.

    :param handle: the job.
    :param request: the request (for ``status`` a request rebuilt from the options).
    :param outcome: ``"completed"`` (the result was fetched), ``"failed"`` (the model
        failed), ``"cancelled"`` (cancelled on Ctrl-C or ``--timeout`` with
        ``--cancel-on-interrupt``), ``"interrupted"`` (Ctrl-C; the job goes on),
        ``"timeout"`` (``--timeout``; the job goes on) or ``"error"`` (another error,
        e.g. the network, ended the wait; the job's fate is unknown).
    :param error: the exception that ended the wait, None when completed. It is raised
        after this hook, and becomes the command's error.

    Why a hook: a journal (the built-in ``history``), a notifier or a batch runner must
    learn every ending of ``run`` and ``status --wait`` alike, without wrapping execution
    or watching error formatting.

    Semantics: 1:N notification, guarded like ``genmedia_job_submitted``; called by the
    core's ``genmedia_execute`` after the result was fetched and before any sink runs.
    Ctrl-C while the sinks run (e.g. during a download) calls it once more, with
    ``"interrupted"``: the run did not finish, though the job's result can be fetched again.
    """


@hookspec
def genmedia_job_progress(handle: JobHandle, status: JobStatus, ctx: AppContext) -> None:
    """A status update for a job being waited on (queue position, new log lines).

    :param status: the latest :class:`JobStatus`; ``status.logs`` holds only lines not
        reported before.

    Semantics: 1:N notification, called for every update including the final COMPLETED one.
    The core's built-in listener renders progress on stderr. Guarded: an implementation
    that raises becomes a warning.
    """


# --------------------------------------------------------------------------- result


@hookspec
def genmedia_handle_result(
    result: RunResult, options: Mapping[str, Any], ctx: AppContext
) -> Mapping[str, Any] | None:
    """An output sink: do something with a finished run (save files, record it …).

    :param result: the finished run; ``result.media()`` lists the media references.
    :param options: the values of options added through ``genmedia_add_options`` (e.g.
        ``options["download"]``), the same for ``run`` and ``status``.
    :returns: a mapping merged into the command's JSON output (e.g. ``{"downloaded_files":
        [...]}``; values may be attrs objects), or None. A sink may set the key
        ``"exit_code"`` to ask for a non-zero exit (e.g. 9 after a failed download); it is
        removed from the output.

    Semantics: 1:N, guarded: pluggy calls every sink, and one that raises becomes an entry
    in the output's ``sink_errors`` (and exit code 1) while the others still run, so the
    result and request id are always printed. A sink that saves media appends
    :class:`SavedFile`/:class:`SaveFailure` objects to ``result.saved_files`` /
    ``result.save_failures`` (the typed channel later sinks read). Order: ``tryfirst``
    sinks; plain sinks from the most recently registered plugin back (third-party, then
    ``download``); then ``trylast`` sinks in registration order (``history``, then
    third-party ``trylast`` sinks). Use ``trylast`` to see the files ``download`` saved.
    """


# --------------------------------------------------------------------------- errors


@hookspec(firstresult=True)
def genmedia_format_error(error: BaseException, ctx: AppContext) -> ErrorReport | None:
    """Turn an exception into the error object the user sees, and an exit code.

    :param error: the exception that ended the command.
    :returns: an :class:`ErrorReport` (``error``, ``details``, ``exit_code``), or None when
        this plugin does not know the exception.

    Semantics: firstresult. Provider plugins format their own HTTP errors (fal turns a 422
    ``detail`` list into ``validation_errors``); the core's ``trylast`` fallback handles
    :class:`genmedia.errors.GenmediaError`, click usage errors, and everything else as an
    internal error (traceback only with ``--debug``).
    """
