"""``spamsift serve``, ``spamd``, ``milter`` and ``learn``: the doors, and teaching them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spamsift import exceptions as exc
from spamsift.cli.common import (
    _errors,
    _messages,
    _settings,
    app,
    err,
)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Models, feedback and keys live here (default: SPAMSIFT_DATA_DIR or ./data). A fresh folder starts with the bundled model.")] = None,
    workers: Annotated[int | None, typer.Option(help="Server processes (default: SPAMSIFT_SERVE_WORKERS, else one per core).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the REST API (classify, feedback, models, health, metrics)."""
    from spamsift.datadir import open_stores
    from spamsift.serving.server import run

    with _errors():
        settings = _settings(data_dir=data_dir)
        run(host, port, settings.data_dir, settings, workers=workers, stores=open_stores,
            log_level=log_level)


@app.command()
def spamd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (spamd's is 783).")] = 783,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="As for `serve`: models and the feedback store (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    max_size: Annotated[int | None, typer.Option("--max-size", help="Largest message in bytes; larger ones are answered EX_TOOBIG (default: the parser's cap, 10 MiB).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds a client has to send its request.")] = 30.0,
    allow_tell: Annotated[bool, typer.Option("--allow-tell/--no-tell", help="Take TELL (spamc -L: learn, forget) from loopback clients and --allowed-ips; off by default, as in SpamAssassin.")] = False,
    allowed_ips: Annotated[list[str] | None, typer.Option("--allowed-ips", "-A", help="With --allow-tell, more clients that may TELL: IP addresses or CIDR networks, comma-separated or repeated (e.g. 10.0.0.0/8,2001:db8::/32). Scanning is open to any client that reaches the port.")] = None,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a spamd-compatible daemon (SpamAssassin's spamc/spamd protocol)."""
    from spamsift.datadir import open_stores
    from spamsift.networks import parse_networks
    from spamsift.serving.spamd.server import SpamdOptions, run

    with _errors():
        settings = _settings(data_dir=data_dir)
        networks = parse_networks(allowed_ips or (), name="--allowed-ips")
        options = SpamdOptions(max_size=settings.limits.max_message_bytes if max_size is None
                               else max_size, timeout=timeout, allow_tell=allow_tell,
                               allowed_ips=networks)
        run(host, port, settings.data_dir, settings, options=options, stores=open_stores,
            log_level=log_level)


@app.command()
def milter(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (the MTA's smtpd_milters / INPUT_MAIL_FILTER names it).")] = 11332,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="As for `serve`: models and the feedback store (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    reject_score: Annotated[float | None, typer.Option("--reject-score", help="Reject (550 5.7.1) spam whose score is at or above this (5.0 is the spam cut-off; default: never).")] = None,
    quarantine_score: Annotated[float | None, typer.Option("--quarantine-score", help="Quarantine (Postfix: hold queue) spam at or above this score (default: never).")] = None,
    max_size: Annotated[int | None, typer.Option("--max-size", help="Bytes of a message scanned; the rest is not (default: the parser's cap, 10 MiB).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds the MTA waits for an answer.")] = 60.0,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a milter for Postfix and Sendmail: mark, quarantine or reject spam."""
    from spamsift.datadir import open_stores
    from spamsift.serving.milter.policy import MilterOptions

    with _errors():
        try:
            from spamsift.serving.milter.server import run
        except ImportError as e:
            raise exc.ConfigError("the milter needs pymilter: pip install 'spamsift[milter]' "
                                  f"(it builds against libmilter-dev) ({e})") from None
        settings = _settings(data_dir=data_dir)
        options = MilterOptions(reject_score=reject_score, quarantine_score=quarantine_score,
                                max_size=settings.limits.max_message_bytes if max_size is None
                                else max_size, timeout=timeout)
        run(host, port, settings.data_dir, settings, options=options, stores=open_stores,
            log_level=log_level)


@app.command()
def learn(
    paths: Annotated[list[Path] | None, typer.Argument(help="Message files, folders, mboxes or Maildirs; '-' or nothing for one message on stdin.")] = None,
    spam: Annotated[bool, typer.Option("--spam", help="The user says spam (moved it into Junk).")] = False,
    ham: Annotated[bool, typer.Option("--ham", help="The user says not spam (moved it out of Junk).")] = False,
    forget: Annotated[bool, typer.Option("--forget", help="Withdraw this user's votes on it (other users' stand).")] = False,
    user: Annotated[str | None, typer.Option(help="Whose vote it is (default: the Unix user). Each user's vote counts once.")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Record in this data folder's feedback store, as `serve`/`spamd` use it (default: SPAMSIFT_DATA_DIR or ./data).")] = None,
    api: Annotated[str | None, typer.Option("--api", envvar="SPAMSIFT_API_URL", help="Send to a running `spamsift serve` at this base URL instead (moves its model at once).")] = None,
    key: Annotated[str | None, typer.Option("--key", envvar="SPAMSIFT_API_KEY", help="With --api: a key with the 'feedback' scope.")] = None,
    source: Annotated[str, typer.Option(help="Through what the vote came, for the audit trail (the Dovecot scripts say 'imap').")] = "cli",
) -> None:
    """Learn messages as one user's spam or ham, or forget that user's votes (as spamc -L)."""
    import getpass

    from spamsift.ingest import IngestReport
    from spamsift.serving.mailclients import ApiVotes, StoreVotes, tell_each

    actions = [a for a, on in (("spam", spam), ("ham", ham), ("forget", forget)) if on]
    if len(actions) != 1:
        raise typer.BadParameter("give exactly one of --spam, --ham, --forget")
    if api is not None and data_dir is not None:
        raise typer.BadParameter("give --data-dir or --api, not both")
    with _errors():
        who = user if user is not None else getpass.getuser()
        settings = _settings(data_dir=data_dir)
        votes = (ApiVotes(api, key or "") if api is not None
                 else StoreVotes(settings.data_dir, settings))
        report = IngestReport()
        failed = seen = 0
        with votes:
            # Read with the cap the servers scan with.
            messages = _messages(paths, report, max_bytes=settings.limits.max_message_bytes)
            for msg, told in tell_each(votes, messages, actions[0], user=who, source=source):
                seen += 1
                if isinstance(told, exc.InputError):
                    failed += 1
                    err.print(f"error: {msg.source}: {told}", highlight=False, markup=False)
                else:
                    print(f"{msg.source}: {told.describe()}", flush=True)  # one unwrapped line
        if report.skipped_count:
            err.print(report.summary(), highlight=False, markup=False)
        if failed or report.skipped_count or not seen:
            raise exc.InputError("no message to learn" if not seen and not report.skipped_count
                                 else f"{failed + report.skipped_count} message(s) not learned")
