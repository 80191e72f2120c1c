"""Settings a handler needs, read once from the environment that template.yaml sets."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    roster_table: str = Field(min_length=1)
    imports_table: str = Field(min_length=1)
    schools_table: str = Field(min_length=1)
    alert_topic_arn: str | None = None
    upload_bucket: str | None = None
    school_queue_url: str | None = None
    importer_timeout_seconds: int = 900
    # A district bundle whose parts hold more bytes than this fans out, a work item per school.
    bundle_fan_out_bytes: int = Field(default=8 << 20, ge=0)
    # An approve or rollback of more records than this is handed to the importer (the API's limit
    # is 30 seconds, and DynamoDB writes one school's roster at about 1,000 items a second).
    decision_inline_changes: int = Field(default=10_000, ge=0)

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        return cls(
            roster_table=env.get("ROSTER_TABLE", ""),
            imports_table=env.get("IMPORTS_TABLE", ""),
            schools_table=env.get("SCHOOLS_TABLE", ""),
            alert_topic_arn=env.get("ALERT_TOPIC_ARN") or None,
            upload_bucket=env.get("UPLOAD_BUCKET") or None,
            school_queue_url=env.get("SCHOOL_QUEUE_URL") or None,
            importer_timeout_seconds=int(env.get("IMPORTER_TIMEOUT_SECONDS", "900")),
            bundle_fan_out_bytes=int(env.get("BUNDLE_FAN_OUT_BYTES", str(8 << 20))),
            decision_inline_changes=int(env.get("DECISION_INLINE_CHANGES", "10000")),
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environment()
