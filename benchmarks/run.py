"""Measures the importer against its targets (issue #5), side by side in one run.

    .venv/bin/python benchmarks/run.py            # the full run, as in docs/performance.md
    .venv/bin/python benchmarks/run.py --smoke    # small sizes; asserts the exact write-count targets

Every upload is synthetic and seeded (sis_imports.synthetic), so runs are comparable. DynamoDB
is moto, in-process; calls are counted with botocore's event hooks, so the counts are exact and
the times are moto's, not AWS's (docs/performance.md projects those).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_SERVICE_NAME": "sis-imports",
        "POWERTOOLS_METRICS_NAMESPACE": "SisImports",
    }
)

import boto3
from moto import mock_aws
from parse_only import import_parse
from sis_imports.aws import Clients
from sis_imports.config import Settings
from sis_imports.formats import Scope
from sis_imports.importer import Importer, Upload
from sis_imports.local.template import create_stack, load_template
from sis_imports.synthetic import SyntheticSchool, generate_school, write_oneroster, write_sds, write_sloopy

WRITERS = {"sloopy": write_sloopy, "oneroster": write_oneroster, "sds": write_sds}


@dataclass
class Row:
    figure: str
    value: str
    target: str
    ok: bool | None  # None: reported, not a target


ROWS: list[Row] = []


def report(figure: str, value: str, target: str = "", ok: bool | None = None) -> None:
    ROWS.append(Row(figure, value, target, ok))
    mark = {True: "meets", False: "MISSES", None: ""}[ok]
    print(f"{figure:<58} {value:>26}  {target:<22} {mark}", flush=True)


# ---------------------------------------------------------------- 1, 2: parse throughput and memory
def raw_rows(path: Path) -> tuple[int, float]:
    """The physical limit: csv.reader over every member of the same zip."""
    started = time.perf_counter()
    rows = 0
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            delimiter = "\t" if name.lower().endswith(".txt") else ","
            with zf.open(name) as member:
                for _ in csv.reader(
                    io.TextIOWrapper(member, encoding="utf-8", newline=""), delimiter=delimiter
                ):
                    rows += 1
    return rows, time.perf_counter() - started


def parse_and_diff(path: Path, scope: Scope) -> float:
    started = time.perf_counter()
    import_parse(path, scope)
    return time.perf_counter() - started


def peak_rss_mb(path: Path, scope: Scope) -> float:
    """The same work in a fresh process; its peak resident set size.

    Read from VmHWM, which exec resets: getrusage's ru_maxrss would carry over the high-water mark
    of this (large) benchmark process, which the child was forked from.
    """
    code = (
        "import sys\nfrom pathlib import Path\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\nimport parse_only\n"
        f"parse_only.import_parse(Path({str(path)!r}), parse_only.Scope({scope.district_id!r}, {scope.school_id!r}))\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip().splitlines()[-1]) / 1024


def throughput(folder: Path, label: str, schools: list[SyntheticSchool], scope: Scope, fmt: str) -> None:
    path = WRITERS[fmt](schools, folder / f"{label}-{fmt}.zip")
    rows, raw = raw_rows(path)
    ours = min(parse_and_diff(path, scope) for _ in range(2))
    ratio = raw / ours
    report(
        f"parse+validate+diff, {label}, {fmt} ({rows:,} rows)",
        f"{rows / ours:,.0f} rows/s = {ratio:.2f}x raw",
        ">= 0.5x csv.reader",
        ratio >= 0.5,
    )
    if scope.school_id is None:
        # In AWS the split is the bundle's own invocation; each school is then its own, in parallel.
        split = min(_split_seconds(path, scope) for _ in range(2))
        report(
            f"  of which the split alone (one invocation), {label}", f"{split:.2f}s = {raw / split:.2f}x raw"
        )
    rss = peak_rss_mb(path, scope)
    report(f"peak RSS, {label}, {fmt}", f"{rss:,.0f} MB", "<= 256 MB", rss <= 256)


def _split_seconds(path: Path, scope: Scope) -> float:
    from sis_imports.formats.split import split_bundle
    from sis_imports.issues import IssueLog

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        split_bundle(path, scope.district_id, Path(folder), IssueLog())
        return time.perf_counter() - started


def _process(code: str, *args: str) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a fresh Python process running `code`, start to exit."""
    wrapped = (
        f"{code}\n"
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')), file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapped, *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    seconds = time.perf_counter() - started
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


_CSV_READER_SCRIPT = """import csv, io, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as zf:
    for name in zf.namelist():
        with zf.open(name) as member:
            for _ in csv.reader(io.TextIOWrapper(member, encoding="utf-8", newline=""), delimiter="\\t"):
                pass"""
_CHECK_SCRIPT = """import sys
from sis_imports.cli.main import main
main(["check", sys.argv[1]])"""


def check_command(folder: Path) -> None:
    """`sis-imports check` on a 1,000,000-row Sloopy upload, as a whole process, beside a plain
    csv.reader pass over the same zip, also a whole process."""
    school = generate_school("BIG", students=137_500, classes_per_student=6)
    path = write_sloopy([school], folder / "million.zip")
    rows = sum(school.counts().values())
    # Taken in turns, so that both see the same machine: on a shared one, the best of three each.
    raws, runs = [], []
    for _ in range(3):
        raws.append(_process(_CSV_READER_SCRIPT, str(path))[0])
        runs.append(_process(_CHECK_SCRIPT, str(path)))
    raw = min(raws)
    ours, rss = min(seconds for seconds, _ in runs), max(peak for _, peak in runs)
    report(
        f"sis-imports check, {rows:,}-row Sloopy zip, whole process",
        f"{ours:.2f}s vs {raw:.2f}s = {raw / ours:.2f}x",
        ">= 0.5x csv.reader",
        raw / ours >= 0.5,
    )
    report("peak RSS, sis-imports check of that zip", f"{rss:,.0f} MB", "<= 256 MB", rss <= 256)


# ---------------------------------------------------------------- 3, 4: writes and importer overhead
class CallCounter:
    def __init__(self, session: boto3.session.Session):
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        session.events.register("provide-client-params.dynamodb", self._count)

    def _count(self, model, params, **_: object) -> None:
        self.calls[model.name] += 1
        if model.name == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                self.items[table] += len(requests)

    def reset(self) -> None:
        self.calls.clear()
        self.items.clear()


def churned(school: SyntheticSchool, share: float, seed: int = 7) -> SyntheticSchool:
    """Drops `share` of the students (and their enrollments) and adds as many new ones."""
    day = school.copy()
    gone = sorted(day.students)[:: max(1, int(1 / share))][: int(len(day.students) * share)]
    sections = sorted(day.sections)
    for n, student_id in enumerate(gone):
        del day.students[student_id]
        day.enrollments = (
            {e for e in day.enrollments if e[1] != student_id} if n == len(gone) - 1 else day.enrollments
        )
        new_id = f"{school.school_id}Z{seed}{n:05d}"
        day.students[new_id] = ("New", "Student", "9")
        day.enrollments.add((sections[n % len(sections)], new_id))
    day.enrollments = {e for e in day.enrollments if e[1] in day.students}
    return day


def writes_and_overhead(folder: Path, school: SyntheticSchool) -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        stack = create_stack(load_template(ROOT / "template.yaml"), session)
        env = stack.function_environment("ImporterFunction")
        settings = Settings(
            roster_table=env["ROSTER_TABLE"],
            imports_table=env["IMPORTS_TABLE"],
            schools_table=env["SCHOOLS_TABLE"],
            alert_topic_arn=env["ALERT_TOPIC_ARN"],
            upload_bucket=env["UPLOAD_BUCKET"],
        )
        counter = CallCounter(session)
        importer = Importer(settings, Clients(session))
        s3 = session.client("s3")
        roster_table = env["ROSTER_TABLE"]
        at = datetime(2026, 10, 5, 2, tzinfo=UTC)

        def run(night: SyntheticSchool, n: int) -> tuple[int, int, int, float]:
            path = write_sloopy([night], folder / f"night{n}.zip")
            key = f"uploads/d1/{night.school_id}/night{n}.zip"
            put = s3.put_object(Bucket=settings.upload_bucket, Key=key, Body=path.read_bytes())
            upload = Upload(
                settings.upload_bucket,
                key,
                put.get("VersionId"),
                put["ETag"].strip('"'),
                path.stat().st_size,
                at + timedelta(days=n),
            )
            counter.reset()
            started = time.perf_counter()
            (result,) = importer.run(upload)
            elapsed = time.perf_counter() - started
            record = importer.records.get("d1", night.school_id, result.import_id)
            changed = sum(c["new"] + c["dropped"] for c in record["counts"].values())
            requests = counter.calls["BatchWriteItem"]  # only the roster is batch-written
            return changed, counter.items[roster_table], requests, elapsed

        changed, items, requests, first_time = run(school, 0)
        report(
            "first import: roster items written",
            f"{items:,} in {requests:,} requests",
            f"= {changed:,} in {math.ceil(changed / 25):,}",
            items == changed and requests == math.ceil(changed / 25),
        )
        _, items, requests, _ = run(school, 1)
        report(
            "identical re-import: roster items written", f"{items} in {requests} requests", "0", items == 0
        )
        day = churned(school, 0.01)
        _, items, requests, _ = run(day, 2)
        plan_changed = _changed_records(school, day)
        report(
            "1% churn: roster items written",
            f"{items:,} in {requests} requests",
            f"<= 1.05 x {plan_changed:,}",
            items <= 1.05 * plan_changed and requests == math.ceil(items / 25),
        )

        # 4. The same items written straight into moto with batch_writer, as the floor.
        table = session.resource("dynamodb").Table(roster_table)
        scan = session.client("dynamodb").get_paginator("scan").paginate(TableName=roster_table)
        raw_items = [item for page in scan for item in page["Items"]][:changed]
        from boto3.dynamodb.types import TypeDeserializer

        plain = [{k: TypeDeserializer().deserialize(v) for k, v in item.items()} for item in raw_items]
        for item in plain:
            item["pk"] = "bench#" + item["pk"]
        started = time.perf_counter()
        with table.batch_writer() as writer:
            for item in plain:
                writer.put_item(Item=item)
        floor = time.perf_counter() - started
        ratio = first_time / floor
        report(
            f"importer end to end vs batch_writer ({changed:,} items)",
            f"{first_time:.2f}s vs {floor:.2f}s = {ratio:.2f}x",
            "<= 1.5x",
            ratio <= 1.5,
        )


def _changed_records(before: SyntheticSchool, after: SyntheticSchool) -> int:
    return len(before.students.keys() ^ after.students.keys()) + len(before.enrollments ^ after.enrollments)


# ---------------------------------------------------------------- 5, 6: API and checker cost
def api_and_checker(records: int, schools: int) -> None:
    from sis_imports.api.services import use_services
    from sis_imports.local.events import claims_for, http_event, schedule_event
    from sis_imports.local.lambdas import LambdaContext, load_handler

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        stack = create_stack(load_template(ROOT / "template.yaml"), session)
        for name in stack.resources("AWS::Serverless::Function"):
            os.environ.update(stack.function_environment(name))
        from sis_imports import config

        config.settings.cache_clear()
        use_services(None)
        client = session.client("dynamodb")
        imports, schools_table = stack.refs["ImportsTable"], stack.refs["SchoolsTable"]
        start = datetime(2020, 1, 1, tzinfo=UTC)
        _batch_put(
            client,
            imports,
            (
                {
                    "pk": {"S": "d1#CTS"},
                    "sk": {"S": f"{(start + timedelta(hours=n)):%Y%m%dT%H%M%S}000000Z-{n:010x}"},
                    "status": {"S": "succeeded"},
                    "import_id": {"S": f"x{n}"},
                }
                for n in range(records)
            ),
        )
        # The steady state: one school in a hundred stale, the rest imported yesterday.
        yesterday, stale = datetime(2026, 10, 4, tzinfo=UTC).isoformat(), start.isoformat()
        _batch_put(
            client,
            schools_table,
            (
                {
                    "district_id": {"S": f"d{n // 100}"},
                    "school_id": {"S": f"S{n:05d}"},
                    "last_succeeded_at": {"S": stale if n % 100 == 0 else yesterday},
                }
                for n in range(schools)
            ),
        )
        # The handlers' clients come from boto3's default session: count its calls.
        boto3.setup_default_session(region_name="us-east-1")
        counter = CallCounter(boto3.DEFAULT_SESSION)
        api = load_handler(ROOT, stack, "ApiFunction")
        admin = claims_for("district_admin", "d1")
        now = datetime(2026, 10, 5, tzinfo=UTC)
        for path, label in (
            ("/districts/d1/schools/CTS/imports", "history page"),
            ("/districts/d1/schools/CTS/alert", "alert"),
        ):
            latencies, calls = [], []
            for _ in range(50):
                counter.reset()
                started = time.perf_counter()
                response = api(http_event("GET", path, claims=admin, at=now), LambdaContext())
                latencies.append((time.perf_counter() - started) * 1000)
                assert response["statusCode"] == 200, response
                calls.append(sum(counter.calls.values()))
            p50, p95 = statistics.median(latencies), sorted(latencies)[int(0.95 * len(latencies)) - 1]
            report(
                f"API {label}: DynamoDB calls per request ({records:,} records)",
                f"{max(calls)}",
                "1",
                max(calls) == 1,
            )
            report(f"API {label}: latency p50 / p95 on moto", f"{p50:.1f} / {p95:.1f} ms")
        checker = load_handler(ROOT, stack, "CheckerFunction")
        checker(schedule_event(now), LambdaContext())  # the first run stores every school's state
        counter.reset()
        started = time.perf_counter()
        summary = checker(
            schedule_event(now + timedelta(hours=1)), LambdaContext()
        )  # the hourly steady state
        elapsed = time.perf_counter() - started
        scans = counter.calls["Scan"]
        report(
            f"checker: Scan calls for {schools:,} schools",
            f"{scans} ({summary['pages']} pages)",
            f"= pages of 500 ({math.ceil(schools / 500) or 1})",
            scans == summary["pages"] == (math.ceil(schools / 500) or 1),
        )
        report(
            f"checker: other calls for {schools:,} schools",
            f"{sum(counter.calls.values()) - scans:,} ({summary['notified_stale']:,} notified)",
            "writes only on a change",
        )
        report(f"checker: time for {schools:,} schools on moto", f"{elapsed:.1f} s")


def _batch_put(client, table: str, items) -> None:
    batch = []
    for item in items:
        batch.append({"PutRequest": {"Item": item}})
        if len(batch) == 25:
            client.batch_write_item(RequestItems={table: batch})
            batch = []
    if batch:
        client.batch_write_item(RequestItems={table: batch})


# ---------------------------------------------------------------- 7: cold start
BUILD = ROOT / ".aws-sam" / "build"
FUNCTIONS = ("ImporterFunction", "ApiFunction", "CheckerFunction")


def _import_ms(python: str, paths: list[Path], code: str, env: dict[str, str], runs: int = 7) -> float:
    """The fastest of `runs` fresh processes timing `code`, in milliseconds."""
    best = float("inf")
    for _ in range(runs):
        done = subprocess.run(
            [python, "-c", f"import time; t=time.perf_counter(); {code}; print(time.perf_counter()-t)"],
            capture_output=True,
            text=True,
            check=True,
            env={**env, "PYTHONPATH": os.pathsep.join(map(str, paths))},
        )
        best = min(best, float(done.stdout.strip().splitlines()[-1]) * 1000)
    return best


def cold_start(lambda_python: str | None) -> None:
    """Each handler's import as Lambda runs it: the `sam build` output (the layer with its bytecode)
    under the runtime's Python, with LAMBDA_TASK_ROOT and the template's Powertools settings, beside
    `import boto3, aws_lambda_powertools` from the same layer. Also, for information, the same from the
    source tree under this Python outside Lambda (tests, the CLI and the local stack start so)."""
    from sis_imports.local.environment import powertools_environment
    from sis_imports.local.template import Stack, handler_location

    template = load_template(ROOT / "template.yaml")
    stack = Stack(template)
    # (logical id, CodeUri, the module Lambda imports), as the template says.
    handlers = [
        (function, code_uri, handler.rsplit(".", 1)[0])
        for function in FUNCTIONS
        for code_uri, handler in [handler_location(stack, function)]
    ]
    base_env = {
        "PATH": os.environ["PATH"],
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "1",  # Lambda's /opt and /var/task are read-only
        **powertools_environment(template),
    }
    layer = BUILD / "SharedLayer" / "python"
    if lambda_python and layer.is_dir():
        env = {**base_env, "LAMBDA_TASK_ROOT": str(BUILD), "AWS_LAMBDA_FUNCTION_NAME": "bench"}
        bare = _import_ms(lambda_python, [layer], "import boto3, aws_lambda_powertools", env)
        for function, _code_uri, module in handlers:
            seconds = _import_ms(lambda_python, [BUILD / function, layer], f"import {module}", env)
            report(
                f"cold start: {module} import, as in Lambda",
                f"{seconds:.0f} ms = {seconds / bare:.2f}x",
                f"<= 2x ({bare:.0f} ms bare)",
                seconds <= 2 * bare,
            )
    else:
        print(
            "cold start: no `sam build` output or Python 3.13; run `make bench`, which makes both", flush=True
        )
    source = ROOT / "layers" / "sis_imports"
    bare = _import_ms(sys.executable, [source], "import boto3, aws_lambda_powertools", base_env)
    for _function, code_uri, module in handlers:
        seconds = _import_ms(sys.executable, [ROOT / code_uri, source], f"import {module}", base_env)
        report(f"cold start: {module} import, outside Lambda", f"{seconds:.0f} ms = {seconds / bare:.2f}x")


# ---------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--smoke", action="store_true", help="small sizes; assert the exact write targets only"
    )
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    parser.add_argument("--lambda-python", help="the Lambda runtime's Python (3.13), for the cold start")
    parser.add_argument(
        "--part",
        choices=["parse", "check", "writes", "api", "cold"],
        action="append",
        help="run only these parts of the full run (default: all)",
    )
    args = parser.parse_args()
    parts = set(args.part or ["parse", "check", "writes", "api", "cold"])
    print(f"{'figure':<58} {'measured':>26}  {'target':<22}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.smoke:
            school = generate_school("CTS", students=300)
            writes_and_overhead(folder, school)
        else:
            one = [generate_school("CTS", students=3000, classes_per_student=7)]
            if "parse" in parts:
                for fmt in WRITERS:
                    throughput(folder, "one school 3k students", one, Scope("d1", "CTS"), fmt)
                district = [
                    generate_school(f"S{n:03d}", students=3000, classes_per_student=7, seed=n)
                    for n in range(100)
                ]
                throughput(folder, "district 300k students", district, Scope("d1"), "sloopy")
            if "check" in parts:
                check_command(folder)
            if "writes" in parts:
                writes_and_overhead(folder, one[0])
            if "api" in parts:
                api_and_checker(records=10_000, schools=10_000)
            if "cold" in parts:
                cold_start(args.lambda_python)
    if args.json:
        args.json.write_text(json.dumps([row.__dict__ for row in ROWS], indent=2))
    missed = [row.figure for row in ROWS if row.ok is False]
    targets = [row for row in ROWS if row.ok is not None]
    print(
        f"\n{len(targets) - len(missed)} of {len(targets)} targets met; missed: {', '.join(missed) or 'none'}",
        flush=True,
    )
    # CI asserts the write counts, which are exact; times depend on the machine and are only reported.
    exact_missed = [figure for figure in missed if "items written" in figure]
    return 1 if exact_missed else 0


if __name__ == "__main__":
    sys.exit(main())
