"""Messages to the alert topic: a school turned stale, recovered, or an import needs a decision."""

from __future__ import annotations

from typing import Any

from sis_imports.alerts import AlertStatus


def stale_message(status: AlertStatus) -> tuple[str, str]:
    last = status.last_import_at or "never"
    age = f"{status.age_days:.1f} days ago" if status.age_days is not None else "no import has ever succeeded"
    subject = f"SIS imports stale: school {status.school_id} ({status.district_id})"
    body = (
        f"School {status.school_id} in district {status.district_id} has had no successful SIS import "
        f"for more than {status.threshold_days} days.\n"
        f"Last successful import: {last} ({age}).\n"
        f"Latest upload status: {status.last_upload_status or 'none'}.\n\n"
        "What to do: contact the school's Sloopy installer first; they can check that the nightly "
        "upload still runs and reaches us. Then check the import history for failed or blocked uploads."
    )
    return subject[:100], body


def recovered_message(status: AlertStatus) -> tuple[str, str]:
    subject = f"SIS imports recovered: school {status.school_id} ({status.district_id})"
    body = (
        f"School {status.school_id} in district {status.district_id} is importing again.\n"
        f"Last successful import: {status.last_import_at} ({status.age_days:.1f} days ago)."
    )
    return subject[:100], body


def held_message(district_id: str, school_id: str, import_id: str, reason: str) -> tuple[str, str]:
    subject = f"SIS import held for review: school {school_id} ({district_id})"
    body = (
        f"An upload for school {school_id} in district {district_id} was held and has not changed the "
        f"roster.\n{reason}\nImport: {import_id}. Approve or discard it on the Imports page."
    )
    return subject[:100], body


class AlertTopic:
    def __init__(self, client: Any, topic_arn: str | None):
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, district_id: str, school_id: str, kind: str, subject: str, body: str) -> None:
        if not self._topic_arn:
            raise RuntimeError("ALERT_TOPIC_ARN is not set; the template sets it for this function")
        self._client.publish(
            TopicArn=self._topic_arn,
            Subject=subject,
            Message=body,
            MessageAttributes={
                "district_id": {"DataType": "String", "StringValue": district_id},
                "school_id": {"DataType": "String", "StringValue": school_id},
                "kind": {"DataType": "String", "StringValue": kind},
            },
        )
