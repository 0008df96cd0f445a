"""The `secman` command.

secman's own commands are below; any other name is handed to Django's management
commands, so `secman migrate`, `secman shell` or `secman check --deploy` work too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import click
from rich.table import Table

from secman.core import channel
from secman.core.cli import console, prepare_database, setup_django


class SecmanGroup(click.Group):
    """Falls back to Django's management commands for names it does not know."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        setup_django(check_origin=False)
        from django.core.management import get_commands

        if cmd_name not in get_commands():
            return None

        @click.command(
            cmd_name,
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                              "help_option_names": []},
            add_help_option=False,
            help=f"Django's `{cmd_name}` command (try `secman {cmd_name} --help`).",
        )
        @click.pass_context
        def django_command(inner: click.Context) -> None:
            from django.core.management import execute_from_command_line

            execute_from_command_line(["secman", cmd_name, *inner.args])

        return django_command


@click.group(cls=SecmanGroup, epilog="Every Django management command works as well: "
             "secman migrate, secman shell, secman check --deploy, ...")
@click.version_option(package_name="secman")
@click.pass_context
def main(ctx: click.Context) -> None:
    """secman: a Certificate Authority's Security Policy and Security Manual as
    running software."""
    # Whatever a command does is done through the command line by this operating-system
    # user: every Event Log entry says so (details "via"), whoever --as names.
    ctx.with_resource(channel.using(channel.command_line()))


def _print_logins(logins: list[tuple[str, str, str]], password: str) -> None:
    table = Table(title=f"Demo logins (password for all: {password})")
    table.add_column("login")
    table.add_column("name")
    table.add_column("roles")
    for username, name, roles in logins:
        table.add_row(username, name, roles)
    console.print(table)


@main.command()
@click.option("--demo", is_flag=True, help="Load the demo organisation first if the "
              "database is empty, and print the demo logins.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Number of gunicorn worker processes.")
@click.option("--no-duties", is_flag=True, help="Do not start the compliance duties round "
              "(evaluation, reminders) beside the server; run `secman duties run` from cron "
              "or a separate process instead. SECMAN_DUTIES_EVERY=0 does the same.")
def serve(demo: bool, host: str, port: int, workers: int, no_duties: bool) -> None:
    """Apply migrations, then serve secman with gunicorn.

    Every SECMAN_DUTIES_EVERY seconds (default 300) a process of its own beside gunicorn
    runs the compliance duties round (`secman duties run --every`), and another signs an
    Event Log checkpoint within SECMAN_EVENTLOG_CHECKPOINT_SECONDS (default 60) of every
    new entry (`secman eventlog scheduler --checkpoints-only`). With SECMAN_LOGS_SPOOL set,
    a third stores what rsyslog writes there (`secman logs ingest SPOOL --follow`). They
    stop with the server."""
    _follow_address(host, port)
    setup_django()
    prepare_database()
    if demo:
        from secman import demo as demo_data

        if demo_data.database_is_empty():
            with console.status("Loading the demo organisation..."):
                logins = demo_data.load()
            console.print("[green]Demo organisation loaded.[/green]")
        else:
            logins = demo_data.existing_logins()
            console.print("The database holds data already; the demo was not loaded again.")
        _print_logins(logins, demo_data.DEMO_PASSWORD)
    from django.conf import settings

    duties_every = 0 if no_duties else settings.COMPLIANCE_RUN_SECONDS
    console.print(f"secman is serving on [bold]{settings.SITE_URL}/[/bold] (Ctrl-C stops it)")
    if duties_every:
        console.print(f"Compliance duties run every {duties_every}s in a process beside "
                      "the server (--no-duties turns that off).")
    console.print("Event Log checkpoints are signed within "
                  f"{settings.EVENTLOG_CHECKPOINT_SECONDS}s of new entries.")
    if settings.LOGS_SPOOL:
        console.print(f"The systems' logs are read from {settings.LOGS_SPOOL} "
                      "(SECMAN_LOGS_SPOOL).")
    run_gunicorn(host, port, workers, duties_every=duties_every)


def _follow_address(host: str, port: int) -> None:
    """Unless the operator set them, the address in mails and links (SECMAN_SITE_URL) and
    the host names secman answers to (SECMAN_ALLOWED_HOSTS) follow --host and --port, so
    `make run PORT=8101` needs nothing else. A wildcard address names no host: then only
    the loopback names are allowed until SECMAN_ALLOWED_HOSTS says more."""
    wildcard = host in ("0.0.0.0", "::", "")  # noqa: S104 (compared with, not bound)
    shown = "127.0.0.1" if wildcard else (f"[{host}]" if ":" in host else host)
    os.environ.setdefault("SECMAN_SITE_URL", f"http://{shown}:{port}")
    if "SECMAN_ALLOWED_HOSTS" not in os.environ and not wildcard:
        os.environ["SECMAN_ALLOWED_HOSTS"] = ",".join(dict.fromkeys(
            ["127.0.0.1", "localhost", host]))
    elif wildcard and "SECMAN_ALLOWED_HOSTS" not in os.environ:
        console.print(f"[yellow]Listening on {host}: set SECMAN_ALLOWED_HOSTS to the names "
                      "people use to reach this machine (only 127.0.0.1 and localhost are "
                      "answered now).[/yellow]")


def run_gunicorn(host: str, port: int, workers: int, duties_every: int = 0,
                 checkpoints: bool = True) -> None:
    from django.conf import settings
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    from secman.wsgi import application

    # Nothing this process opened may reach the workers it is about to fork: a SQLite file
    # shared across fork() corrupts (the migrations' and the demo's connection are closed
    # here, and the duties round and the checkpoint loop run in processes of their own,
    # started by exec).
    connections.close_all()
    _refuse_open_database_files()
    duties: list[subprocess.Popen[bytes]] = []

    def when_ready(server: Any) -> None:
        # Once gunicorn listens: a bind that fails leaves no duties process behind.
        if duties_every:
            duties.append(start_duties_process(duties_every))
        if checkpoints:
            duties.append(start_checkpoint_process())
        if settings.LOGS_SPOOL:
            duties.append(start_ingest_process(settings.LOGS_SPOOL))

    def on_exit(server: Any) -> None:
        for process in duties:
            stop_duties_process(process)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for key, value in {"bind": bind, "workers": workers, "accesslog": "-",
                               "access_log_format": ACCESS_LOG_FORMAT,
                               "graceful_timeout": 10, "timeout": 60,
                               "logger_class": "secman.core.redaction.RedactingAccessLogger",
                               }.items():
                self.cfg.set(key, value)
            if duties_every or checkpoints or settings.LOGS_SPOOL:
                self.cfg.set("when_ready", when_ready)
                self.cfg.set("on_exit", on_exit)

        def load(self) -> Any:
            return application

    Server().run()


# gunicorn's default line with the worker's process id at the end, so an operator (and the
# served-product test) can tell which worker answered.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(p)s'


def _refuse_open_database_files() -> None:
    """Stop before forking if this process still has the SQLite database (or its -wal or
    -shm file) open: closing the connections must have closed them. Linux shows open files
    in /proc/self/fd; elsewhere there is nothing to look at."""
    from django.db import connection

    if connection.vendor != "sqlite" or not os.path.isdir("/proc/self/fd"):
        return
    database = os.path.realpath(str(connection.settings_dict["NAME"]))
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed while listing (listdir's own descriptor)
        if target.removesuffix(" (deleted)").startswith(database):
            raise click.ClickException(
                f"the database file {target} is still open before gunicorn forks its "
                "workers; refusing to start (a SQLite file shared across fork corrupts)")


def start_duties_process(every: int) -> subprocess.Popen[bytes]:
    """`secman duties run --every N` as a process of its own (fork and exec: it opens its
    own database connection and shares nothing with the workers). It stops when asked,
    and by itself if this process disappears without asking."""
    command = [sys.executable, "-m", "secman", "duties", "run", "--every", str(every),
               "--served-by", str(os.getpid())]
    return subprocess.Popen(command, close_fds=True)  # noqa: S603 (our own command line)


def start_checkpoint_process() -> subprocess.Popen[bytes]:
    """`secman eventlog scheduler --checkpoints-only` as a process of its own, like the
    duties round's: it signs a checkpoint within SECMAN_EVENTLOG_CHECKPOINT_SECONDS of
    every new entry, and stops with this process."""
    command = [sys.executable, "-m", "secman", "eventlog", "scheduler", "--checkpoints-only",
               "--served-by", str(os.getpid())]
    return subprocess.Popen(command, close_fds=True)  # noqa: S603 (our own command line)


def start_ingest_process(spool: str) -> subprocess.Popen[bytes]:
    """`secman logs ingest SPOOL --follow` as a process of its own (SECMAN_LOGS_SPOOL): it
    stores what rsyslog writes, and stops with this process."""
    command = [sys.executable, "-m", "secman", "logs", "ingest", spool, "--follow", "--quiet",
               "--served-by", str(os.getpid())]
    return subprocess.Popen(command, close_fds=True)  # noqa: S603 (our own command line)


def stop_duties_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: the round under way finishes, then the loop ends
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@main.command()
def demo() -> None:
    """Load the fictional demo organisation into an empty database."""
    setup_django()
    prepare_database()
    from secman import demo as demo_data

    if not demo_data.database_is_empty():
        raise click.ClickException(
            "the database already holds people; the demo loads into an empty database only "
            "(use a fresh SECMAN_DATA_DIR or DATABASE_URL)"
        )
    with console.status("Loading the demo organisation..."):
        logins = demo_data.load()
    _print_logins(logins, demo_data.DEMO_PASSWORD)


def _read_password(prompt: str, from_stdin: bool) -> str:
    """One line of standard input (for scripts), or typed twice, unseen."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@main.command()
@click.option("--username", prompt=True, help="Login name of the administrator.")
@click.option("--name", prompt="Full name", help="The administrator's name.")
@click.option("--email", prompt=True, help="The administrator's email address.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
def createadmin(username: str, name: str, email: str, password_stdin: bool) -> None:
    """Create the secman administrator: a login that records people, teams and Board
    minutes on the Board's behalf, and that approves and signs nothing."""
    setup_django()
    prepare_database()
    from secman.core.errors import Refused
    from secman.people.services import create_person

    password = _read_password("Password", password_stdin)
    try:
        create_person(actor=None, authority="SP 1.2", name=name, email=email,
                      username=username, password=password, superuser=True)
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]Administrator {username!r} created.[/green]")


@main.command()
@click.argument("login")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from standard input instead of prompting.")
def changepassword(login: str, password_stdin: bool) -> None:
    """Set a new password for LOGIN (one who forgot theirs), as the operator of this
    server. The password validators apply; the Event Log records that it was reset, and
    by whom, never the password. (Replaces Django's command of the same name, which
    would leave no entry.)"""
    setup_django()
    from secman.core.errors import Refused
    from secman.people.accounts import reset_password

    password = _read_password("New password", password_stdin)
    try:
        reset_password(login=login, new=password, by_label="secman changepassword (operator)")
    except Refused as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[green]The password of {login!r} was reset.[/green]")


@main.command(hidden=True, context_settings={"ignore_unknown_options": True},
              add_help_option=False)
@click.argument("ignored", nargs=-1, type=click.UNPROCESSED)
def createsuperuser(ignored: tuple[str, ...]) -> None:
    """Refused: use `secman createadmin`. (Django's command would make a login with no
    person behind it and no Event Log entry.)"""
    raise click.UsageError("secman has no superusers made this way: `secman createadmin` "
                           "makes the administrator login (a person, recorded in the Event "
                           "Log)")


def _add_eventlog_group() -> None:
    from secman.eventlog.cli import eventlog

    main.add_command(eventlog)


_add_eventlog_group()


def _add_signoff_group() -> None:
    from secman.authority.cli import signoff

    main.add_command(signoff)


_add_signoff_group()


def _add_physical_group() -> None:
    from secman.physical.cli import physical

    main.add_command(physical)


_add_physical_group()


def _add_visits_group() -> None:
    from secman.visits.cli import visits

    main.add_command(visits)


_add_visits_group()


def _add_systems_group() -> None:
    from secman.systems.cli import systems

    main.add_command(systems)


_add_systems_group()


def _add_privileged_group() -> None:
    from secman.privileged.cli import privileged

    main.add_command(privileged)


_add_privileged_group()


def _add_logs_group() -> None:
    from secman.logs.cli import logs

    main.add_command(logs)


_add_logs_group()


def _add_backup_groups() -> None:
    from secman.backups.cli import backup, backups

    main.add_command(backup)
    main.add_command(backups)


_add_backup_groups()


def _add_keypersons_group() -> None:
    from secman.recovery.cli import keypersons

    main.add_command(keypersons)


_add_keypersons_group()


def _add_software_group() -> None:
    from secman.software.cli import software

    main.add_command(software)


_add_software_group()


def _add_docs_group() -> None:
    # secman.documents.cli imports no Django: `secman docs compare A.html B.txt` runs
    # without a database.
    from secman.documents.cli import docs

    main.add_command(docs)


_add_docs_group()


def _add_duties_group() -> None:
    from secman.compliance.cli import duties

    main.add_command(duties)


_add_duties_group()


def _add_report_group() -> None:
    from secman.compliance.report_cli import report

    main.add_command(report)


_add_report_group()
