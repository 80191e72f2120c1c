"""The whole system on one machine: a moto server made from template.yaml, S3 deliveries to the
importer, an HTTP server for the template's HttpApi routes, and the scheduled checker.

The handlers are loaded from their CodeUri folders as Lambda loads them, and called one at a
time (a Lambda container handles one event at a time; Powertools' logger and metrics assume so).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from moto.server import ThreadedMotoServer

from sis_imports import config
from sis_imports.api.services import use_services
from sis_imports.local import tokens
from sis_imports.local.environment import QUIET
from sis_imports.local.events import http_event, schedule_event, sqs_event
from sis_imports.local.lambdas import Handler, LambdaContext, load_handler
from sis_imports.local.template import (
    Stack,
    create_stack,
    http_routes,
    load_template,
    public_routes,
    queue_triggers,
    upload_trigger,
)

NOTIFICATION_QUEUE = "local-upload-notifications"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def schedule_seconds(stack: Stack, logical_id: str) -> float:
    """rate(N unit) from the function's Schedule event, in seconds."""
    for event in stack.template["Resources"][logical_id]["Properties"].get("Events", {}).values():
        if event["Type"] == "Schedule":
            found = re.match(r"rate\((\d+) (minute|hour|day)s?\)", event["Properties"]["Schedule"])
            if found:
                return int(found.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[found.group(2)]
    raise LookupError(f"{logical_id} has no rate() schedule in template.yaml")


@dataclass
class LocalStack:
    root: Path
    aws_port: int = 0
    api_port: int = 0
    tick_every: float | None = None
    quiet: bool = False  # the demo tells its own story; handler logs and metrics stay out of it
    deliver_uploads: bool = True  # tests that set an upload's arrival time invoke the importer themselves
    host: str = "127.0.0.1"
    secret: str = field(default_factory=tokens.new_secret)
    # Not a child of "sis-imports", which is Powertools' logger: its lines would carry a handler's context.
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("local-stack"))

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._handlers: dict[str, Handler] = {}
        self.imports_delivered = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        # The stack sets the functions' environment in this process; stop() puts the old one back.
        self._saved_environment = dict(os.environ)
        config.settings.cache_clear()
        use_services(None)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._moto.start()
        self.aws_port = self._moto.get_host_and_port()[1]
        self.aws_endpoint = f"http://{self.host}:{self.aws_port}"
        os.environ.update(
            {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": self.aws_endpoint, "POWERTOOLS_TRACE_DISABLED": "true"}
        )
        session = boto3.session.Session(region_name="us-east-1")
        self.stack = create_stack(load_template(self.root / "template.yaml"), session)
        for function in self.stack.resources("AWS::Serverless::Function"):
            os.environ.update(self.stack.function_environment(function))
        if self.quiet:
            os.environ.update(QUIET)
        # An invocation that records no metric (a 404, a duplicate) is normal, not worth a warning.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self.bucket = self.stack.refs["UploadBucket"]
        self._queue_url = self._subscribe_uploads(session)
        self._public = public_routes(self.stack)
        self._routes = [
            (method, _route_pattern(path), path, function)
            for method, path, function in http_routes(self.stack)
        ]
        self._api = ThreadingHTTPServer((self.host, self.api_port), _api_request_handler(self))
        self.api_port = self._api.server_address[1]
        self.api_url = f"http://{self.host}:{self.api_port}"
        self._spawn(self._api.serve_forever, "api")
        if self.deliver_uploads:
            self._spawn(self._deliver_uploads, "s3-deliveries")
        for function, queue in queue_triggers(self.stack):
            self._spawn(lambda f=function, q=queue: self._deliver_queue(f, q), f"sqs-{queue}")
        checker, every = self._checker()
        self._spawn(lambda: self._run_checker(checker, every), "checker")

    def stop(self) -> None:
        self._stop.set()
        self._api.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        self._moto.stop()
        os.environ.clear()
        os.environ.update(self._saved_environment)
        config.settings.cache_clear()
        use_services(None)

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # ------------------------------------------------------------------ handlers
    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        with self._lock:
            handler = self._handlers.get(logical_id)
            if handler is None:
                handler = self._handlers[logical_id] = load_handler(self.root, self.stack, logical_id)
            return handler(event, LambdaContext(logical_id))

    # ------------------------------------------------------------------ S3 -> importer
    def _subscribe_uploads(self, session: Any) -> str:
        """S3 notifies an SQS queue (moto supports that); a thread hands each event to the importer."""
        sqs, s3 = session.client("sqs"), session.client("s3")
        url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._importer, prefix = upload_trigger(self.stack)
        s3.put_bucket_notification_configuration(
            Bucket=self.bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
                    }
                ]
            },
        )
        self._sqs = sqs
        return str(url)

    def _deliver_uploads(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                ).get("Messages", [])
            except Exception:  # the server is stopping
                if self._stop.is_set():
                    return
                raise
            for message in messages:
                event = json.loads(message["Body"])
                if "Records" in event:  # skip S3's test event
                    try:
                        result = self.invoke(self._importer, event)
                        self.imports_delivered += 1
                        self.log.info("import delivered: %s", json.dumps(result))
                    except Exception:
                        self.log.exception("importer failed; Lambda would retry this event")
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])

    # ------------------------------------------------------------------ SQS -> function
    def _deliver_queue(self, function: str, queue: str) -> None:
        """Lambda's SQS event source: one message per invocation; a failure leaves it for a retry."""
        url, arn = self.stack.refs[queue], self.stack.arns[queue]
        while not self._stop.is_set():
            try:
                messages = self._sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1
                ).get("Messages", [])
            except Exception:  # the server is stopping
                if self._stop.is_set():
                    return
                raise
            for message in messages:
                try:
                    result = self.invoke(function, sqs_event([message], arn))
                    self.imports_delivered += 1
                    self.log.info("work item delivered: %s", json.dumps(result))
                    self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                except Exception:
                    self.log.exception(
                        "%s failed on a work item; it stays on %s for a retry", function, queue
                    )

    # ------------------------------------------------------------------ schedule -> checker
    def _checker(self) -> tuple[str, float]:
        for name, function in self.stack.resources("AWS::Serverless::Function").items():
            if any(e["Type"] == "Schedule" for e in function["Properties"].get("Events", {}).values()):
                return name, self.tick_every or schedule_seconds(self.stack, name)
        raise LookupError("template.yaml has no scheduled function")

    def _run_checker(self, logical_id: str, every: float) -> None:
        while not self._stop.wait(every):
            try:
                summary = self.invoke(logical_id, schedule_event(datetime.now(UTC)))
                self.log.info("checker ran: %s", json.dumps(summary))
            except Exception:
                self.log.exception("checker failed")

    # ------------------------------------------------------------------ HTTP API
    def route(self, method: str, path: str) -> tuple[str, str, dict[str, str], bool] | None:
        """(function, route key, path parameters, whether the route is public) for a request."""
        for route_method, pattern, template_path, function in self._routes:
            found = pattern.match(path)
            if found and route_method == method:
                public = (method, template_path) in self._public
                return function, f"{method} {template_path}", found.groupdict(), public
        return None


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def _api_request_handler(stack: LocalStack) -> type[BaseHTTPRequestHandler]:
    class ApiRequest(BaseHTTPRequestHandler):
        """Stands in for API Gateway: checks the bearer token, builds a payload 2.0 event."""

        def _serve(self) -> None:
            url = urlsplit(self.path)
            method = self.command
            match = stack.route(method, url.path)
            if match is None:
                return self._reply(HTTPStatus.NOT_FOUND, {"message": "Not Found"})
            function, route_key, params, public = match
            claims = tokens.verify(stack.secret, self.headers.get("Authorization", ""), time.time())
            if claims is None and not public:  # what the JWT authorizer answers
                return self._reply(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", errors="replace") if length else None
            event = http_event(
                method,
                url.path,
                claims=claims,
                at=datetime.now(UTC),
                query=dict(parse_qsl(url.query)) or None,
                body=body,
                route_key=route_key,
                path_parameters=params,
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            try:
                response = stack.invoke(function, event)
            except Exception:
                stack.log.exception("API handler failed")
                return self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": "Internal Server Error"})
            self.send_response(response["statusCode"])
            for name, value in (response.get("headers") or {}).items():
                self.send_header(name, value)
            payload = (response.get("body") or "").encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return None

        def _reply(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            stack.log.info("api %s", format % args)

    return ApiRequest
