"""Plain-dict <-> DynamoDB attribute values, for the small items (records, schools)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamo(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    return value


def serialize(value: Any) -> dict[str, Any]:
    serialized: dict[str, Any] = dict(_serializer.serialize(_to_dynamo(value)))
    return serialized


def to_item(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: serialize(value) for key, value in fields.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


def update_expression(fields: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET for each non-None field, REMOVE for each None one."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets, removes = [], []
    for index, (key, value) in enumerate(fields.items()):
        names[f"#f{index}"] = key
        if value is None:
            removes.append(f"#f{index}")
        else:
            values[f":v{index}"] = serialize(value)
            sets.append(f"#f{index} = :v{index}")
    expression = ""
    if sets:
        expression += "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression.strip(), names, values
