"""What template.yaml grants and guards, checked statement by statement."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

from sis_imports.local.template import Stack

from .conftest import TEMPLATE

RESOURCES = TEMPLATE["Resources"]


# An explicit role's statements count as its function's.
ROLE_OF = {
    resource["Properties"]["Role"]["Fn::GetAtt"][0]: name
    for name, resource in RESOURCES.items()
    if resource["Type"] == "AWS::Serverless::Function" and "Role" in resource["Properties"]
}
STANDARD_MANAGED_POLICIES = {
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:${AWS::Partition}:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement in the template: function policies, roles', managed policies, bucket policies."""
    for name, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        for policy in props.get("Policies", []) if resource["Type"] == "AWS::Serverless::Function" else []:
            for statement in policy.get("Statement", []):
                yield name, statement
        for policy in props.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
            for statement in policy["PolicyDocument"]["Statement"]:
                yield ROLE_OF.get(name, name), statement
        document = props.get("PolicyDocument")
        if document:
            for statement in document["Statement"]:
                yield name, statement


def actions(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Action", [])
    return [value] if isinstance(value, str) else list(value)


def test_no_statement_grants_a_wildcard_action():
    allows = [(name, s) for name, s in statements() if s["Effect"] == "Allow"]
    assert len(allows) >= 8
    for name, statement in allows:
        for action in actions(statement):
            assert "*" not in action, f"{name} grants {action}"
        assert statement.get("Resource") not in ("*", ["*"]), f"{name} grants on every resource"


def test_the_only_wildcard_is_the_deny_for_requests_without_tls():
    for name, statement in statements():
        if any("*" in action for action in actions(statement)):
            assert statement["Effect"] == "Deny", name
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name


def test_functions_only_use_sam_policy_statements_we_wrote():
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in resource["Properties"].get("Policies", []):
                assert set(policy) == {"Statement"}, f"{name} uses a policy template; write statements out"


def test_a_queue_consumer_has_its_own_role_and_consumes_only_its_queue():
    """SAM would give an SQS consumer AWSLambdaSQSQueueExecutionRole: every queue in the account."""
    for name, resource in RESOURCES.items():
        events = resource.get("Properties", {}).get("Events", {}).values()
        if resource["Type"] == "AWS::Serverless::Function" and any(e["Type"] == "SQS" for e in events):
            assert "Role" in resource["Properties"] and "Policies" not in resource["Properties"], name
            consumed = [
                s["Resource"] for fn, s in statements() if fn == name and "sqs:ReceiveMessage" in actions(s)
            ]
            queues = [e["Properties"]["Queue"] for e in events if e["Type"] == "SQS"]
            assert consumed == queues, name
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::IAM::Role":
            managed = {arn["Fn::Sub"] for arn in resource["Properties"].get("ManagedPolicyArns", [])}
            assert managed <= STANDARD_MANAGED_POLICIES, name


def test_importer_reads_only_under_uploads():
    reads = [
        s
        for name, s in statements()
        if name == "ImporterFunction" and any(a.startswith("s3:") for a in actions(s))
    ]
    by_prefix = {
        resource["Fn::Sub"].rsplit("/", 2)[-2]: actions(s)
        for s in reads
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    # Uploads are only read; its only S3 writes are the undo logs kept for rollback and the
    # per-school parts of a district bundle (work/, which expires after a day).
    assert by_prefix == {
        "uploads": ["s3:GetObject", "s3:GetObjectVersion"],
        "rollback": ["s3:GetObject", "s3:PutObject"],
        "work": ["s3:GetObject", "s3:PutObject"],
    }


def test_api_writes_only_what_calendars_settings_and_decisions_need():
    api = [s for name, s in statements() if name == "ApiFunction"]
    grants = {(action, json.dumps(s["Resource"], sort_keys=True)) for s in api for action in actions(s)}
    writes = {
        (a, r)
        for a, r in grants
        if not a.startswith(("dynamodb:Get", "dynamodb:Query", "dynamodb:BatchGet", "s3:Get"))
    }
    assert {a for a, _ in writes} == {
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "s3:PutObject",
        "sqs:SendMessage",
    }
    assert all("RosterTable" in r for a, r in writes if a == "dynamodb:BatchWriteItem")
    assert all("/rollback/*" in r for a, r in writes if a == "s3:PutObject")
    # Only the school work queue: a large approve or rollback is handed to the importer.
    assert {r for a, r in writes if a == "sqs:SendMessage"} == {
        '{"Fn::GetAtt": ["SchoolImportQueue", "Arn"]}'
    }
    assert not any(a.startswith("sns:") or a == "dynamodb:PutItem" for a, _ in grants)


def test_sns_publish_only_on_the_alert_topic():
    for name, statement in statements():
        if "sns:Publish" in actions(statement):
            assert statement["Resource"] == {"Ref": "AlertTopic"}, name


def test_upload_bucket_is_private_encrypted_versioned_logged_and_expires_uploads():
    props = RESOURCES["UploadBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    rules = {rule["Prefix"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    # Raw uploads and the undo logs made from them both hold rows of the upload: both expire.
    assert set(rules) == {"uploads/", "rollback/", "work/"}
    assert (
        rules["uploads/"]["ExpirationInDays"]
        == rules["rollback/"]["ExpirationInDays"]
        == {"Ref": "UploadRetentionDays"}
    )
    # A bundle's per-school parts are only needed until their import runs.
    assert rules["work/"]["ExpirationInDays"] == 1
    assert TEMPLATE["Parameters"]["UploadRetentionDays"]["Default"] == 30
    (deny,) = RESOURCES["UploadBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_uploader_policy_is_fenced_by_the_principals_district_tag():
    (statement,) = RESOURCES["UploaderPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert actions(statement) == ["s3:PutObject"]
    resource = Stack(TEMPLATE).resolve(statement["Resource"])
    assert resource.endswith("/uploads/${aws:PrincipalTag/district_id}/*")

    def allowed(district_tag: str, key: str) -> bool:
        pattern = resource.replace("${aws:PrincipalTag/district_id}", district_tag)
        return fnmatch.fnmatchcase(f"arn:aws:s3:::sis-imports-uploads-123456789012-us-east-1/{key}", pattern)

    assert allowed("d1", "uploads/d1/CTS/x.zip")
    assert allowed("d1", "uploads/d1/bundle.zip")
    assert not allowed("d1", "uploads/d2/CTS/x.zip")
    assert not allowed("d1", "uploads/d10/x.zip")
    assert not allowed("d1", "rollback/d1/x")
    assert statement["Condition"] == {"StringLike": {"aws:PrincipalTag/district_id": "?*"}}


def test_every_api_route_sits_behind_the_jwt_authorizer_but_the_page_and_is_throttled():
    api = RESOURCES["HttpApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoJwt"
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    public = set()
    for resource in RESOURCES.values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "HttpApi" and "Auth" in event["Properties"]:
                assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}
                public.add((event["Properties"]["Method"], event["Properties"]["Path"]))
    # Only the page's static assets are open.
    assert public == {("GET", "/"), ("GET", "/assets/{name}")}


def test_failures_have_dead_letter_queues_and_alarms():
    importer = RESOURCES["ImporterFunction"]["Properties"]
    assert importer["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    alarms = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    watched = {(a["Namespace"], a["MetricName"]) for a in alarms.values()}
    assert {
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/ApiGateway", "5xx"),
    } <= watched
    assert all(a["AlarmActions"] == [{"Ref": "OperationsTopic"}] for a in alarms.values())


def test_every_checkov_skip_gives_its_reason():
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{name} skips {skip['id']} without a reason"
