"""DynamoDB capacity units of the requests a publish makes, computed the way DynamoDB bills.

moto answers ``ReturnConsumedCapacity="TOTAL"`` with a fixed number per call (1.0 for a
GetItem whatever the item's size), so the bench records what moto reports and also computes
the units from item sizes: 1 RCU per 4 KB read strongly consistent (half for eventually
consistent), 1 WCU per 1 KB written, each rounded up per item (per response for Query), and
transactions at twice the units. Item sizes follow DynamoDB's rules
(``blogpub_local.item_sizes``, which the local stack's stream records use too). Writes are
charged on the larger of the item before and after the write, so the recorder looks the
stored items up in moto's backend around each write.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blogpub_local.item_sizes import item_size

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
ACCOUNT_ID = "123456789012"


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def _stored_item(table_name: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    """The item as moto stores it now (wire JSON), or None."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = dynamodb_backends[ACCOUNT_ID]["us-east-1"].get_table(table_name)
    hash_key = DynamoType(dict(key[table.hash_key_attr]))
    range_key = DynamoType(dict(key[table.range_key_attr])) if table.range_key_attr else None
    found = table.get_item(hash_key, range_key)
    attributes: dict[str, Any] | None = found.to_json()["Attributes"] if found else None
    return attributes


def _key_of(table_name: str, item: Mapping[str, Any]) -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ACCOUNT_ID]["us-east-1"].get_table(table_name)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names}


@dataclass
class CapacityRecorder:
    """botocore hooks on a DynamoDB client: computed and moto-reported units per operation."""

    read_units: float = 0.0
    write_units: float = 0.0
    reported_units: float = 0.0
    by_operation: dict[str, float] = field(default_factory=dict)
    # Each call's own parameters and writes, kept per thread (an index batch reads and
    # writes from several threads at once), and a lock for the totals.
    _call: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        client.meta.events.register("provide-client-params.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def detach(self, client: Any) -> None:
        client.meta.events.unregister("provide-client-params.dynamodb", self._before)
        client.meta.events.unregister("after-call.dynamodb", self._after)

    def _writes(
        self, operation: str, params: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(table, key) of every item a write request touches."""
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = params.get("Key") or _key_of(params["TableName"], params["Item"])
            return [(params["TableName"], dict(key))]
        if operation == "TransactWriteItems":
            found = []
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                if kind == "ConditionCheck":
                    continue
                key = body.get("Key") or _key_of(body["TableName"], body["Item"])
                found.append((body["TableName"], dict(key)))
            return found
        return []

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
        self._call.pending = [
            (table, key, item_size(_stored_item(table, key)))
            for table, key in self._writes(model.name, params)
        ]
        self._call.params = dict(params)

    def _after(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        operation, params = model.name, self._call.params
        pending: list[tuple[str, dict[str, Any], int]] = self._call.pending
        units = 0.0
        if operation == "GetItem":
            units = read_units(
                item_size(parsed.get("Item")), consistent=bool(params.get("ConsistentRead"))
            )
        elif operation == "Query":
            size = sum(item_size(item) for item in parsed.get("Items", []))
            units = read_units(size, consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, items in parsed.get("Responses", {}).items():
                consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
                units += sum(read_units(item_size(i), consistent=consistent) for i in items)
        elif pending:
            factor = 2.0 if operation == "TransactWriteItems" else 1.0
            for table, key, before in pending:
                after = item_size(_stored_item(table, key))
                units += factor * write_units(max(before, after))
        reported = parsed.get("ConsumedCapacity")
        entries = reported if isinstance(reported, list) else [reported] if reported else []
        with self._lock:
            if operation in ("GetItem", "Query", "BatchGetItem"):
                self.read_units += units
            else:
                self.write_units += units
            self.by_operation[operation] = self.by_operation.get(operation, 0.0) + units
            self.reported_units += sum(float(entry.get("CapacityUnits", 0.0)) for entry in entries)
        self._call.pending = []
