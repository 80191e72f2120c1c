"""`sis-imports history`: the Imports page as a table, newest first, with the alert under it."""

from __future__ import annotations

import json
from typing import Any

from sis_imports.cli.api_client import get_json
from sis_imports.model import ENTITIES

COLUMNS = ("Created", "Modified", "Status", *(entity.capitalize() for entity in ENTITIES))


def fetch(api_url: str, token: str, district_id: str, school_id: str, limit: int = 25) -> dict[str, Any]:
    base = f"{api_url.rstrip('/')}/districts/{district_id}/schools/{school_id}"
    history = get_json(f"{base}/imports?limit={limit}", token)
    alert = get_json(f"{base}/alert", token)
    return {"items": history["items"], "next_cursor": history["next_cursor"], "alert": alert}


def _when(value: str | None) -> str:
    return value[:16].replace("T", " ") if value else "-"


def _cell(counts: dict[str, Any] | None, entity: str) -> str:
    if not counts or entity not in counts:
        return "-"
    return f"{counts[entity]['total']} ({counts[entity]['new']})"


def render(result: dict[str, Any]) -> str:
    rows = [COLUMNS] + [
        (
            _when(item.get("created_at")),
            _when(item.get("modified_at")),
            item.get("status", "?"),
            *(_cell(item.get("counts"), entity) for entity in ENTITIES),
        )
        for item in result["items"]
    ]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if not result["items"]:
        lines.append("(no imports yet)")
    alert = result["alert"]
    age = f"{alert['age_days']:.1f} days" if alert.get("age_days") is not None else "no successful import"
    lines += [
        "",
        f"Alert: {alert['status']} (newest successful import: {age}; threshold {alert['threshold_days']} "
        f"days)",
        f"Reason: {alert['reason']}",
    ]
    if alert.get("last_upload_status") not in (None, "succeeded"):
        lines.append(f"Latest upload: {alert['last_upload_status']}")
    return "\n".join(lines)


def run(api_url: str, token: str, district_id: str, school_id: str, as_json: bool) -> int:
    result = fetch(api_url, token, district_id, school_id)
    print(json.dumps(result, indent=2) if as_json else render(result))
    return 0
