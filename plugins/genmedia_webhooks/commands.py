"""``genmedia webhook verify`` and ``genmedia webhook listen``."""

from __future__ import annotations

from typing import Any

import click

from genmedia import errors
from genmedia.cli import get_app, not_an_agent_tool


@click.group("webhook")
def webhook() -> None:
    """Verify fal's signed webhook deliveries, or receive them and finish the jobs.

    A job submitted with `genmedia run ENDPOINT --async --webhook URL` is POSTed to URL
    when it ends. `webhook listen` is such a URL: it checks each delivery's signature,
    records the job in the run journal and saves its files.
    """


def _read(source: str, what: str) -> bytes:
    """A file's exact bytes (``-``: standard input); a usage error if it cannot be read."""
    if source == "-":
        import sys

        data = getattr(sys.stdin, "buffer", sys.stdin).read()
        return data if isinstance(data, bytes) else data.encode()
    try:
        with open(source, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise errors.UsageError(
            f"Cannot read {what} {source!r}: {exc.strerror or exc}", {"path": source}
        ) from None


@webhook.command("verify")
@click.option(
    "--body", "body_file", required=True, metavar="FILE", help="The raw body ('-' = stdin)."
)
@click.option(
    "--headers", "headers_file", metavar="FILE", help="The raw HTTP headers of the delivery."
)
@click.option("--request-id", metavar="ID", help="X-Fal-Webhook-Request-Id (overrides --headers).")
@click.option("--user-id", metavar="ID", help="X-Fal-Webhook-User-Id (overrides --headers).")
@click.option(
    "--timestamp", metavar="UNIX_S", help="X-Fal-Webhook-Timestamp (overrides --headers)."
)
@click.option("--signature", metavar="HEX", help="X-Fal-Webhook-Signature (overrides --headers).")
@click.option("--jwks-url", metavar="URL", help="Trust this JWKS instead of fal's (tests).")
def verify(
    body_file: str,
    headers_file: str | None,
    request_id: str | None,
    user_id: str | None,
    timestamp: str | None,
    signature: str | None,
    jwks_url: str | None,
) -> None:
    """Check that a delivery comes from fal: exit 0 if valid, 5 with the reason if not.

    The body must be the exact bytes received. The reasons (details.reason):
    missing_header, malformed_header, stale_timestamp (more than 300 s from this
    machine's clock), bad_signature (no key of fal's JWKS verifies it),
    keys_unavailable (the JWKS could not be fetched).
    """
    from genmedia.output import emit
    from genmedia_webhooks.verify import Verifier, parse_raw_headers, require_cryptography

    require_cryptography()
    app = get_app(click.get_current_context())
    app.configure()  # a plugin may redirect fal's hosts (--sandbox): its JWKS then
    if headers_file == "-" and body_file == "-":
        raise errors.UsageError("--headers and --body cannot both be read from stdin")
    headers: dict[str, str] = {}
    if headers_file:
        headers = parse_raw_headers(_read(headers_file, "--headers").decode("utf-8", "replace"))
    given = {
        "x-fal-webhook-request-id": request_id,
        "x-fal-webhook-user-id": user_id,
        "x-fal-webhook-timestamp": timestamp,
        "x-fal-webhook-signature": signature,
    }
    headers.update({k: v for k, v in given.items() if v is not None})
    body = _read(body_file, "--body")
    verdict = Verifier(app.settings.cache_dir, jwks_url, settings=app.settings).verify(
        headers, body
    )
    if not verdict.valid:
        raise errors.ValidationError(
            f"Invalid webhook delivery: {verdict.message}",
            {
                "reason": verdict.reason,
                "request_id": verdict.request_id,
                "timestamp": verdict.timestamp,
            },
        )
    doc: dict[str, Any] = {
        "valid": True,
        "request_id": verdict.request_id,
        "user_id": verdict.user_id,
        "timestamp": verdict.timestamp,
        "key_id": verdict.key_id,
    }
    emit(app, doc)


@not_an_agent_tool("a long-running HTTP receiver (run it beside the agent)")
@webhook.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to bind (0: any free port; see the `listening` line).")  # fmt: skip
@click.option("--path", "path", default="/", show_default=True,
              help="Only deliveries POSTed to this path (or below) are accepted.")  # fmt: skip
@click.option("--download", metavar="TEMPLATE",
              help="Save each job's files like `run --download TEMPLATE`.")  # fmt: skip
@click.option("--overwrite", is_flag=True, default=None, help="With --download: replace files.")
@click.option("--backstop-after", type=click.FloatRange(min=0), default=300.0,
              show_default=True, metavar="SECONDS",
              help="Poll unfinished journal jobs older than this whose webhook has not "
              "arrived, and finish them (0: at once).")  # fmt: skip
@click.option("--no-backstop", is_flag=True, help="Never poll: only deliveries finish jobs.")
@click.option("--max-deliveries", type=click.IntRange(min=1), metavar="N",
              help="Stop after N deliveries answered (not 5xx ones, which are delivered "
              "again; jobs finished by the backstop count).")  # fmt: skip
@click.option("--exit-after", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Stop after SECONDS.")  # fmt: skip
@click.option("--jwks-url", metavar="URL", help="Trust this JWKS instead of fal's (tests).")
def listen(**params: Any) -> None:
    """Receive webhook deliveries: verify, record in the journal, save files.

    Every POST is checked (an invalid one gets 401 and changes nothing); a valid one
    finishes its job through the same path as `genmedia status REQUEST_ID --result`:
    the journal row is completed (or failed) and --download saves the files. The answer
    is 2xx only once the row is written, so fal redelivers anything not recorded; a
    redelivery of a finished job changes nothing. One NDJSON line per delivery on
    stdout. Binds to 127.0.0.1 unless --host says otherwise.
    """
    from genmedia_webhooks.listen import ListenOptions, serve
    from genmedia_webhooks.verify import require_cryptography

    require_cryptography()
    app = get_app(click.get_current_context())
    options = ListenOptions(
        host=params["host"],
        port=params["port"],
        path=params["path"],
        download=params["download"],
        overwrite=params["overwrite"],
        backstop_after=None if params["no_backstop"] else params["backstop_after"],
        max_deliveries=params["max_deliveries"],
        exit_after=params["exit_after"],
        jwks_url=params["jwks_url"],
    )
    serve(app, options)
