"""The `sis-imports` command line. Errors are one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sis-imports", description="SIS roster imports: check, run and inspect."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser(
        "check", help="validate an upload (zip or folder) offline, as the importer reads it"
    )
    check.add_argument("path", type=Path)
    check.add_argument(
        "--school", help="the school the upload is for (default: any, or as the files name it)"
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument(
        "--strict", action="store_true", help="exit 1 on warnings too (rows that would be skipped)"
    )

    commands.add_parser("demo", help="run the main job on the local stack with the bundled sample, then stop")

    local = commands.add_parser("local", help="the whole system on this machine").add_subparsers(
        dest="local_command", required=True
    )
    up = local.add_parser("up", help="start moto, the importer, the API and the checker here")
    up.add_argument("--aws-port", type=int, default=4566)
    up.add_argument("--api-port", type=int, default=3000)
    up.add_argument(
        "--tick-every", type=float, help="run the checker every N seconds (default: its schedule)"
    )
    token = local.add_parser("token", help="print a bearer token the local API accepts")
    token.add_argument(
        "--role", required=True, choices=["district_admin", "school_admin", "sys_admin", "teacher", "student"]
    )
    token.add_argument("--district", required=True)
    token.add_argument("--school", action="append", default=[], help="repeat for several schools")

    send = commands.add_parser("upload", help="zip (if needed) and upload an export, as Sloopy does")
    send.add_argument("path", type=Path)
    send.add_argument("--district", required=True)
    send.add_argument("--school", help="omit for a district bundle")
    send.add_argument("--endpoint-url", help="an S3 endpoint; the local stack's when it is running")
    send.add_argument(
        "--bucket", help="the upload bucket (default: the local stack's, or --stack-name's output)"
    )
    send.add_argument("--stack-name", default="sis-imports", help="deployed stack to find the bucket in")

    show = commands.add_parser("history", help="print a school's import history and alert status")
    show.add_argument("--district", required=True)
    show.add_argument("--school", required=True)
    show.add_argument("--api-url", help="default: the local stack's")
    show.add_argument(
        "--token",
        default=os.environ.get("SIS_IMPORTS_TOKEN"),
        help="bearer token (default: $SIS_IMPORTS_TOKEN, or a local one)",
    )
    show.add_argument("--json", action="store_true")

    commands.add_parser("openapi", help="print the API's OpenAPI document, generated from the code")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the promise: one line, never a traceback
        message, code = _explain(exc)
        print(f"sis-imports: {message}", file=sys.stderr)
        return code


def _explain(exc: Exception) -> tuple[str, int]:
    """The line to print for an error, and the exit code: 1 for what the user can fix, 2 for a bug.

    The API client and botocore are imported here, not at the top: `check` needs neither, and
    loading them would be a third of its start-up.
    """
    if isinstance(exc, FileNotFoundError | TimeoutError | ValueError | LookupError):
        return str(exc), 1
    from botocore.exceptions import BotoCoreError, ClientError

    from sis_imports.cli.api_client import ApiError
    from sis_imports.local.state import NotRunning

    if isinstance(exc, ApiError | NotRunning):
        return str(exc), 1
    if isinstance(exc, BotoCoreError | ClientError):
        return f"AWS said: {exc}", 1
    return f"unexpected error: {type(exc).__name__}: {exc}", 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "check":
        from sis_imports.cli import check

        return check.run(args.path, args.json, args.school, strict=args.strict)
    if args.command == "openapi":
        from sis_imports.api.app import openapi_document

        print(openapi_document())
        return 0
    if args.command == "demo":
        root = _prepare_handlers(quiet=True)
        from sis_imports.cli import demo

        return demo.run(root)
    if args.command == "local":
        return _local(args)
    if args.command == "upload":
        return _upload(args)
    if args.command == "history":
        return _history(args)
    raise ValueError(f"unknown command {args.command}")


def _local(args: argparse.Namespace) -> int:
    from sis_imports.local import state, tokens
    from sis_imports.local.events import claims_for

    if args.local_command == "token":
        current = state.load()
        print(tokens.issue(current.secret, claims_for(args.role, args.district, args.school), time.time()))
        return 0
    # The root handler exists before Powertools' Logger is built, so Powertools keeps its own
    # JSON lines from being printed twice.
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(name)s %(message)s")
    root = _prepare_handlers(quiet=False)
    from sis_imports.local.stack import LocalStack

    stack = LocalStack(root, aws_port=args.aws_port, api_port=args.api_port, tick_every=args.tick_every)
    stack.start()
    state.save(state.LocalState(stack.api_url, stack.aws_endpoint, stack.bucket, stack.secret, os.getpid()))
    print(
        f"sis-imports local stack is up\n  AWS endpoint: {stack.aws_endpoint}\n  API:          {stack.api_url}\n"
        f"  bucket:       {stack.bucket}\n  token:        sis-imports local token --role district_admin "
        "--district d1\nPress Ctrl-C to stop.",
        flush=True,
    )
    stopping = {"now": False}
    # Both stop it cleanly; SIGINT explicitly, since a shell starts background jobs with it ignored.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopping.update(now=True))
    try:
        while not stopping["now"]:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
        state.clear(os.getpid())
        print("stopped", flush=True)
    return 0


def _prepare_handlers(*, quiet: bool) -> Path:
    """The checkout's root, with the environment Lambda sets before a handler's first import."""
    from sis_imports.local.environment import prepare
    from sis_imports.local.template import find_template, load_template

    template = find_template()
    prepare(load_template(template), quiet=quiet)
    import logging

    for noisy in ("werkzeug", "botocore", "urllib3"):  # moto's request lines, endpoint notices
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return template.parent


def _upload(args: argparse.Namespace) -> int:
    from sis_imports.cli import upload

    endpoint, bucket = args.endpoint_url, args.bucket
    if bucket is None:
        if endpoint:
            from sis_imports.local import state

            current = state.load()
            bucket = current.bucket
        else:
            import boto3

            bucket = upload.find_bucket(boto3.session.Session(), args.stack_name)
    upload.run(args.path, args.district, args.school, bucket, endpoint)
    return 0


def _history(args: argparse.Namespace) -> int:
    from sis_imports.cli import history

    api_url, token = args.api_url, args.token
    if api_url is None or token is None:
        from sis_imports.local import state, tokens
        from sis_imports.local.events import claims_for

        current = state.load()
        api_url = api_url or current.api_url
        token = token or tokens.issue(
            current.secret, claims_for("district_admin", args.district), time.time()
        )
    return history.run(api_url, token, args.district, args.school, args.json)


if __name__ == "__main__":
    sys.exit(main())
