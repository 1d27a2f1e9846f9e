"""Where moto differs from AWS in a way the local stack cannot live with, make it behave like AWS.

moto's TransactWriteItems deep-copies every table it names before applying anything (so it
can roll back), which makes one transaction cost O(table size): a 10,000-post site would take
hours to publish. DynamoDB checks every condition of a transaction against the state before
it and then applies all writes or none; this does exactly that, touching only the named items:
a write that fails while applying (a type mismatch, say) undoes the ones before it.

moto also serialises every DynamoDB and DynamoDB Streams response by walking the botocore
output shape with a chain of attribute-alias lookups per structure member, ten members per
AttributeValue: reading a 10,000-post table's stream took minutes of CPU in the serialiser
alone. DynamoDB's data-plane results are already dicts in wire shape, so the walk below
visits only the keys present and hands every scalar to moto's own serialiser methods: the
same bytes, in a fraction of the time (tests/integration/test_moto_fidelity.py compares them).

And moto's Query sorts the whole table, then the partition, comparing items through Python
``DynamoType.__lt__``, before walking the partition from its first item: one month archive of
a 10,000-post site cost seconds. DynamoDB keeps each partition ordered by sort key and reads
only the requested range; the index below keeps every partition's sort keys in order (updated
on each write) and reads the range by bisection, so a query costs O(log n + result).

moto parses each UpdateExpression twice per transaction item (validating the request, then
applying it), though a publish sends the same few expressions again and again: parsed trees
are remembered by their text (moto deep-copies a tree before it resolves names in it). And
moto applies an Update through ten validating passes over the tree: most of a publish's
transaction time. A transaction's Update made only of ``SET #a = :v``, ``ADD #n :number`` and
``REMOVE #a`` on distinct non-key attributes is applied directly, with moto's own number
arithmetic, size limit and stream record (one INSERT for an item it creates, as DynamoDB
streams it; moto's UpdateItem streams the bare key first); any other Update goes to moto.

moto answers every error by building the service's table of error shapes (every shape of
the model, each with its codes) in a new ``ErrorLookupFactory``, whose cache dies with it:
a publish whose site has no _config.yml paid that for its settings read's NoSuchKey. The
table is kept here, one per service, as moto's factory meant to keep it.

moto gives a stream record the length of its JSON as ``SizeBytes`` (its own comment calls it
"a substantial overestimate"); DynamoDB gives the size of its keys and images by the
item-size rules, which is what AWS's sample events carry (``item_sizes``).

Last, moto's backends are not thread-safe, and concurrent invocations in one test process
share them: in-process requests are answered one at a time, as the local stack's moto
process answers its HTTP requests (moto_process.py).
"""

from __future__ import annotations

import bisect
import copy
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any

from blogpub_local.item_sizes import stream_record_size


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    _check_transaction_sizes(self, transact_items)
    seen: set[tuple[str, str]] = set()
    operations: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    errors: list[CancellationReason] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table = self.get_table(op["TableName"])
        if op_type == "Put":
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        operations.append((op_type, op, key))
        condition = op.get("ConditionExpression")
        if condition is None:
            errors.append(PASSED)
            continue
        current = self.get_item(op["TableName"], key)
        check = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        )
        if check.expr(current):
            errors.append(PASSED)
        else:
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    before = _TransactionSnapshot(self, operations)
    for position, (op_type, op, key) in enumerate(operations):
        try:
            _apply(self, op_type, op, key)
        except Exception as error:
            before.restore()
            reasons: list[CancellationReason] = [PASSED] * len(operations)
            reasons[position] = (_cancellation_code(error), _message(error), None)
            raise TransactionCanceledException(reasons) from error


# moto's own item limit (dynamo_type.LimitedSizeDict), between AWS's 400 KB and 410 KB.
MOTO_ITEM_LIMIT = 405000
# DynamoDB's documented limits: 400 KB an item, 4 MB a transaction (keys: moto's own check).
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
TRANSACTION_TOO_LARGE = "Transaction request size exceeds the maximum of 4 MB"


def _check_transaction_sizes(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """What DynamoDB refuses before it evaluates a condition: oversized keys (the request
    fails with a ValidationException), an item over 400 KB (the transaction is cancelled
    with a ValidationError for that item), a request over 4 MB (ValidationException)."""
    from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException
    from moto.dynamodb.models.dynamo_type import DynamoType

    total = 0
    for position, item in enumerate(transact_items):
        (op_type, op), *_ = item.items()
        table = backend.get_table(op["TableName"])
        attributes = op["Item"] if op_type == "Put" else op.get("Key", {})
        table._validate_key_sizes(attributes)  # HashKeyTooLong / RangeKeyTooLong, as AWS
        size = sum(
            len(name.encode("utf-8")) + DynamoType(value).size()
            for name, value in attributes.items()
        )
        size += sum(
            DynamoType(value).size() for value in op.get("ExpressionAttributeValues", {}).values()
        )
        if op_type == "Put" and size > MAX_ITEM_BYTES:
            reasons: list[CancellationReason] = [PASSED] * len(transact_items)
            reasons[position] = ("ValidationError", ITEM_TOO_LARGE, None)
            raise TransactionCanceledException(reasons)
        total += size
    if total > MAX_TRANSACTION_BYTES:
        raise MockValidationException(TRANSACTION_TOO_LARGE)


MAX_S3_KEY_BYTES = 1024


def _s3_key_too_long() -> Exception:
    from moto.s3.exceptions import S3ClientError

    # S3 answers 400 KeyTooLongError for a key over 1,024 bytes of UTF-8.
    return S3ClientError("KeyTooLongError", "Your key is too long")


def _limit_key_length(original: Any) -> Any:
    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        if len(key_name.encode("utf-8")) > MAX_S3_KEY_BYTES:
            raise _s3_key_too_long()
        return original(self, bucket_name, key_name, *args, **kwargs)

    return put_object


# One CancellationReasons entry: (Code, Message, Item); all None for an operation that passed.
CancellationReason = tuple[str | None, str | None, dict[str, Any] | None]
PASSED: CancellationReason = (None, None, None)


def _one_request_at_a_time(process_request: Any) -> Any:
    """In-process moto (``mock_aws``) answers one request at a time, as the local stack's moto
    process does: its backends are not thread-safe (a PutObject closes the buffer of the key it
    replaces while that key's own PutObject still reads it; a transaction's checks and writes
    interleave with another's), and AWS answers each request whole."""
    lock = threading.RLock()  # re-entrant: a request moto answers by making another one

    def one_at_a_time(self: Any, request: Any) -> Any:
        with lock:
            return process_request(self, request)

    return one_at_a_time


def _apply(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"])
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key)
    elif op_type == "Update" and not _apply_update_directly(backend, op, key):
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=op.get("ExpressionAttributeNames"),
            expression_attribute_values=op.get("ExpressionAttributeValues"),
        )


# The Update actions applied directly: (verb, name placeholder, value placeholder or "").
SimpleAction = tuple[str, str, str]
_CLAUSE = re.compile(r"(?<![#:\w])(SET|ADD|REMOVE|DELETE)\b", re.IGNORECASE)
_SIMPLE_FORMS = {
    "SET": re.compile(r"\s*(#\w+)\s*=\s*(:\w+)\s*"),
    "ADD": re.compile(r"\s*(#\w+)\s+(:\w+)\s*"),
    "REMOVE": re.compile(r"\s*(#\w+)\s*"),
}
SET_DIRECTLY = frozenset({"S", "N", "BOOL", "NULL", "L", "M"})
PARSED_EXPRESSIONS_REMEMBERED = 1024


@lru_cache(maxsize=PARSED_EXPRESSIONS_REMEMBERED)
def simple_actions(expression: str) -> tuple[SimpleAction, ...] | None:
    """The actions of an Update made only of the simple forms, or None."""
    parts = _CLAUSE.split(expression)
    actions: list[SimpleAction] | None = []
    verbs = [verb.upper() for verb in parts[1::2]]
    if parts[0].strip() or not verbs or len(set(verbs)) != len(verbs):
        actions = None
    for verb, body in zip(verbs, parts[2::2], strict=True):
        form = _SIMPLE_FORMS.get(verb)
        found = [form.fullmatch(action) for action in body.split(",")] if form else [None]
        if actions is None or not all(found):
            actions = None
            break
        actions += [(verb, m.group(1), m.group(2) if verb != "REMOVE" else "") for m in found if m]
    return None if actions is None else tuple(actions)


def _apply_update_directly(backend: Any, op: dict[str, Any], key: dict[str, Any]) -> bool:
    """Apply a simple Update as moto would; False to leave it to moto.

    An Update that creates its item is written as one Put of the key and the new attributes:
    one INSERT record with the whole item, as DynamoDB streams it (moto's UpdateItem first
    puts the bare key, an INSERT record of its own, then a second INSERT with the update).
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge, ItemSizeToUpdateTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType

    actions = simple_actions(op["UpdateExpression"])
    if actions is None:
        return False
    table = backend.get_table(op["TableName"])
    hash_key, range_key = backend.get_keys_value(table, key)
    item = table.get_item(hash_key, range_key)
    names = op.get("ExpressionAttributeNames") or {}
    values = op.get("ExpressionAttributeValues") or {}
    protected = {definition["AttributeName"] for definition in table.attr}
    protected |= {table.hash_key_attr, table.range_key_attr}
    changes: list[tuple[str, Any]] = []
    created = dict(key)  # the item an Update of a missing one creates, in wire shape
    for verb, name_placeholder, value_placeholder in actions:
        name = names.get(name_placeholder)
        if name is None or name in protected or any(name == done for done, _ in changes):
            return False
        if verb == "REMOVE":
            changes.append((name, None))
            continue
        value = values.get(value_placeholder)
        if not isinstance(value, dict) or len(value) != 1:
            return False
        (value_type,) = value
        try:
            if verb == "SET" and value_type in SET_DIRECTLY:
                changes.append((name, DynamoType(value)))
                created[name] = value
            elif verb == "ADD" and value_type == "N":
                stored = item.attrs.get(name) if item is not None else None
                current = stored or DynamoType({"N": "0"})
                if current.type != "N":
                    return False  # moto's own error for the type mismatch
                changes.append((name, current + DynamoType(value)))
                created[name] = changes[-1][1].to_json()
            else:
                return False
        except (ValueError, ArithmeticError):
            return False
    if item is None:
        try:
            backend.put_item(op["TableName"], created)
        except ItemSizeTooLarge as error:
            raise ItemSizeToUpdateTooLarge() from error
        return True
    before = _item_before_update(item)
    try:
        for name, new in changes:
            if new is None:
                item.attrs.pop(name, None)
            else:
                item.attrs[name] = new
    except ItemSizeTooLarge as error:
        raise ItemSizeToUpdateTooLarge() from error
    if table.stream_shard is not None:
        table.stream_shard.add(before, item)
    return True


def _item_before_update(item: Any) -> Any:
    """The item as it is, for the stream record of an update that replaces (never changes in
    place) its attribute values: a new attribute map over the same values, without moto's
    size check on every copied attribute (the item passed it when written)."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    before = copy.copy(item)
    before.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(before.attrs, item.attrs)
    return before


def _item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
    """moto's Item.__init__ with its size limit checked once on the whole item: moto's
    attribute map sums the item again on every attribute set (quadratic in attributes). The
    same limit and error: sizes are never negative, so no prefix passes it before the whole."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    values = {name: DynamoType(value) for name, value in attrs.items()}
    if sum(bytesize(name) + value.size() for name, value in values.items()) > MOTO_ITEM_LIMIT:
        raise ItemSizeTooLarge
    dict.update(self.attrs, values)


def _sized_stream_record(moto_init: Any) -> Any:
    """moto's ``StreamRecord.__init__``, then DynamoDB's ``SizeBytes`` in place of moto's."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        moto_init(self, *args, **kwargs)
        change = self.record["dynamodb"]
        change["SizeBytes"] = stream_record_size(change)

    return init


_ERROR_LOOKUPS: dict[str, Any] = {}  # serviceId -> moto's ErrorLookup


def _error_lookup(self: Any, service_model: Any) -> Any:
    """``ErrorLookupFactory.for_service``, its table kept across factories (a race builds
    one twice, the same table)."""
    service_id = service_model.metadata.get("serviceId")
    if service_id is None:
        return self._create_error_lut(service_model)
    lookup = _ERROR_LOOKUPS.get(service_id)
    if lookup is None:
        lookup = _ERROR_LOOKUPS[service_id] = self._create_error_lut(service_model)
    return lookup


def _cancellation_code(error: Exception) -> str:
    from moto.dynamodb.exceptions import MockValidationException

    return "ValidationError" if isinstance(error, MockValidationException) else type(error).__name__


def _message(error: Exception) -> str:
    return str(getattr(error, "message", None) or error)


class _TransactionSnapshot:
    """The items a transaction names and its tables' stream lengths, to undo a partial apply.

    Only the named items are copied (moto's own rollback copies whole tables), and the stream
    loses the records of the undone writes: DynamoDB streams only committed transactions.
    """

    def __init__(self, backend: Any, operations: list[tuple[str, dict[str, Any], Any]]) -> None:
        import copy

        self.items: list[tuple[Any, Any, Any, Any]] = []
        self.stream_lengths: dict[int, tuple[Any, int]] = {}
        for _, op, key in operations:
            table = backend.get_table(op["TableName"])
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
            self.items.append((table, hash_key, range_key, copy.deepcopy(current)))
            if table.stream_shard is not None:
                self.stream_lengths[id(table)] = (table, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_key, range_key, old in reversed(self.items):
            if table.range_key_attr is None:
                if old is None:
                    table.items.pop(hash_key, None)
                else:
                    table.items[hash_key] = old
            elif old is None:
                table.items.get(hash_key, {}).pop(range_key, None)
            else:
                table.items[hash_key][range_key] = old
            _note_write(table, hash_key, range_key, present=old is not None)
        for table, length in self.stream_lengths.values():
            del table.stream_shard.items[length:]


FAST_SERIALISED_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})


class _NotPlainDataError(Exception):
    """The result holds model objects: only moto's alias-aware walk can read them."""


@lru_cache(maxsize=4096)
def _is_document(shape: Any) -> bool:
    """botocore rebuilds a shape's metadata on every look: read once per shape."""
    return bool(getattr(shape, "is_document_type", False))


def _plain_attribute(value: Any) -> bool:
    """A wire-shaped AttributeValue that moto's walk writes back as it is: strings (S, N, the
    members of SS and NS), booleans (BOOL, NULL) and lists and maps of those; binary is not."""
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return type(inner) is str
    if kind in ("BOOL", "NULL"):
        return type(inner) is bool
    if kind in ("SS", "NS"):
        return type(inner) is list and all(type(member) is str for member in inner)
    if kind == "L":
        return type(inner) is list and all(_plain_attribute(member) for member in inner)
    if kind == "M":
        return type(inner) is dict and all(_plain_attribute(member) for member in inner.values())
    return False


ATTRIBUTE_VALUE_SHAPE = "AttributeValue"


def _walk(serializer: Any, value: Any, shape: Any, key: str) -> Any:
    """``value`` serialised for ``shape`` as moto's walk would, visiting only present keys."""
    type_name = shape.type_name
    if type_name == "string" and type(value) is str:
        return value  # moto's JSON serialiser writes a str as it is (str(value))
    if (
        type_name == "map"
        and shape.value.name == ATTRIBUTE_VALUE_SHAPE
        and type(value) is dict
        and all(_plain_attribute(item) for item in value.values())
    ):
        return value  # an item or image of plain attributes: what the walk would write
    if type_name == "structure":
        if shape.name == ATTRIBUTE_VALUE_SHAPE and _plain_attribute(value):
            return value
        if _is_document(shape):
            return value
        if not isinstance(value, dict):
            raise _NotPlainDataError(shape.name)
        wrapper: dict[str, Any] = {}
        for member_key, member_value in value.items():
            member_shape = shape.members.get(member_key)
            if member_shape is None or member_value is None:
                continue  # moto's walk only emits modelled members that have a value
            name = serializer.get_serialized_name(member_shape, member_key)
            wrapper[name] = _walk(serializer, member_value, member_shape, member_key)
        return wrapper
    if type_name == "list":
        return [_walk(serializer, item, shape.member, shape.member.name) for item in value]
    if type_name == "map":
        return {k: _walk(serializer, v, shape.value, k) for k, v in value.items()}
    scalar: dict[str, Any] = {}
    serializer._serialize(scalar, value, shape, key)
    return scalar[serializer.get_serialized_name(shape, key)]


def _covers_every_member(value: Any, shape: Any) -> bool:
    """True when no present member is spelled in a way only moto's alias lookup would find."""
    return not isinstance(value, dict) or all(
        key in shape.members for key, v in value.items() if v is not None
    )


def serialize_plain_result(context: Any, result: Any) -> tuple[int, dict[str, Any], str] | None:
    """The response moto would send for a plain-dict result, or None when it must walk itself."""
    from moto.core.serialize import XFormedAttributePicker

    if context.service_model.service_name not in FAST_SERIALISED_SERVICES:
        return None
    if isinstance(result, Exception) or context.operation_model.has_event_stream_output:
        return None
    if getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None):
        return None
    output_shape = context.operation_model.output_shape
    if output_shape is None or not _covers_every_member(result, output_shape):
        return None
    serializer = context.serializer_class(
        operation_model=context.operation_model,
        pretty_print=False,
        value_picker=XFormedAttributePicker(),
    )
    try:
        body = _walk(serializer, result, output_shape, "")
    except _NotPlainDataError:
        return None
    response = serializer._serialized_result_to_response(
        serializer._create_default_response(), result, output_shape, body
    )
    return response["status_code"], response["headers"], response["body"]


# A partition's sort keys as plain Python values (str or Decimal), in DynamoDB's order, each
# paired with the moto key that finds its item.
SortedKeys = list[tuple[Any, Any]]
SORTED_KEYS_ATTRIBUTE = "_blogpub_sorted_keys"
UPPER_BOUND = "\U0010ffff"  # sorts after every string that starts with a given prefix


def _native(value: Any) -> Any:
    """A sort key's value in DynamoDB's order: UTF-8 byte order is code point order."""
    if value.type == "S":
        return value.value
    if value.type == "N":
        return Decimal(value.value)
    raise TypeError(value.type)


def _first_of(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _sorted_keys(table: Any, hash_key: Any) -> SortedKeys:
    cache: dict[Any, SortedKeys] = table.__dict__.setdefault(SORTED_KEYS_ATTRIBUTE, {})
    partition = table.items.get(hash_key) or {}
    keys = cache.get(hash_key)
    if keys is None or len(keys) != len(partition):
        keys = sorted(((_native(k), k) for k in partition), key=_first_of)
        cache[hash_key] = keys
    return keys


def _note_write(table: Any, hash_key: Any, range_key: Any, *, present: bool) -> None:
    """Keep a cached partition order in step with a put (present) or delete."""
    cache: dict[Any, SortedKeys] | None = table.__dict__.get(SORTED_KEYS_ATTRIBUTE)
    if cache is None or hash_key not in cache or range_key is None:
        return
    keys = cache[hash_key]
    try:
        native = _native(range_key)
    except TypeError:
        cache.pop(hash_key, None)
        return
    at = bisect.bisect_left(keys, native, key=_first_of)
    found = at < len(keys) and keys[at][0] == native
    if present and not found:
        keys.insert(at, (native, range_key))
    elif not present and found:
        del keys[at]


def _bounds(keys: SortedKeys, comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """The slice of ``keys`` a key condition selects."""
    first = _first_of
    if comparison is None:
        return 0, len(keys)
    op = comparison.upper()
    low = _native(values[0])
    if op in ("EQ", "="):
        return (
            bisect.bisect_left(keys, low, key=first),
            bisect.bisect_right(keys, low, key=first),
        )
    if op in ("LT", "<"):
        return 0, bisect.bisect_left(keys, low, key=first)
    if op in ("LE", "<="):
        return 0, bisect.bisect_right(keys, low, key=first)
    if op in ("GT", ">"):
        return bisect.bisect_right(keys, low, key=first), len(keys)
    if op in ("GE", ">="):
        return bisect.bisect_left(keys, low, key=first), len(keys)
    if op == "BETWEEN":
        return (
            bisect.bisect_left(keys, low, key=first),
            bisect.bisect_right(keys, _native(values[1]), key=first),
        )
    if op == "BEGINS_WITH" and isinstance(low, str):
        return (
            bisect.bisect_left(keys, low, key=first),
            bisect.bisect_left(keys, low + UPPER_BOUND, key=first),
        )
    raise TypeError(op)


def _query(  # noqa: PLR0917 - moto's Table.query signature
    self: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: Any,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: Any = None,
    range_key_conditions: Any = None,
    **filter_kwargs: Any,
) -> Any:
    import copy

    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    simple = (
        index_name is None
        and not filter_kwargs
        and hash_key is not None
        and self.range_key_attr is not None
        and len(range_key_conditions or ()) <= 1
        and self.range_key_type in ("S", "N")
    )
    try:
        if not simple:
            raise TypeError("not a plain base-table query")
        keys = _sorted_keys(self, hash_key)
        start, stop = _bounds(keys, range_comparison, range_objs)
        if exclusive_start_key:
            after = exclusive_start_key[self.range_key_attr]
            after_native = _native(after if hasattr(after, "type") else _dynamo_type(after))
            first = _first_of
            if scan_index_forward:
                start = max(start, bisect.bisect_right(keys, after_native, key=first))
            else:
                stop = min(stop, bisect.bisect_left(keys, after_native, key=first))
    except (TypeError, KeyError):
        return _moto_query(
            self,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )
    partition = self.items.get(hash_key) or {}
    selected = keys[start:stop] if scan_index_forward else keys[start:stop][::-1]
    results: list[Any] = []
    result_size = 0
    last_evaluated_key = None
    for _, range_key in selected:
        item = partition[range_key]
        size = item.size()
        if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
            last_evaluated_key = self._get_last_evaluated_key(results[-1], None)
            break
        results.append(item)
        result_size += size
    scanned_count = len(results)
    results = copy.deepcopy(results)
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [item.project(projection_expressions) for item in results]
    return results, scanned_count, last_evaluated_key


def _dynamo_type(raw: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType(raw)


_moto_query: Any = None


def _install_query() -> None:
    global _moto_query  # noqa: PLW0603 - moto's own Query, kept for the queries it still answers
    from moto.dynamodb.models.table import Table

    _moto_query = Table.query
    moto_put, moto_delete = Table.put_item, Table.delete_item

    def put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = moto_put(self, *args, **kwargs)
        _note_write(self, item.hash_key, item.range_key, present=True)
        return item

    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = moto_delete(self, hash_key, range_key)
        _note_write(self, hash_key, range_key, present=False)
        return item

    _replace(Table, "query", _query)
    _replace(Table, "put_item", put_item)
    _replace(Table, "delete_item", delete_item)


def install() -> None:
    """Patch moto's DynamoDB backend and its response serialiser, and serve in-process requests
    one at a time (idempotent).

    Raises UnsupportedMotoError on a moto outside moto_support.SUPPORTED_MOTO.
    """
    from blogpub_local.moto_support import check_moto_version

    check_moto_version()
    from moto import settings
    from moto.core import responses
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_blogpub_fidelity", False):
        return
    _replace(DynamoDBBackend, "transact_write_items", _transact_write_items)
    from moto.dynamodb.models.dynamo_type import Item

    _replace(Item, "__init__", _item_init)
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    # each distinct expression text parsed once (a syntax error is raised, not remembered)
    remembered = lru_cache(maxsize=PARSED_EXPRESSIONS_REMEMBERED)(UpdateExpressionParser.make)
    _replace(UpdateExpressionParser, "make", remembered)
    DynamoDBBackend._blogpub_fidelity = True  # type: ignore[attr-defined]
    from moto.s3.models import S3Backend

    _replace(S3Backend, "put_object", _limit_key_length(S3Backend.put_object))
    from moto.core.botocore_stubber import BotocoreStubber

    stubbed = BotocoreStubber.process_request
    _replace(BotocoreStubber, "process_request", _one_request_at_a_time(stubbed))
    _install_query()
    from moto.core.errors import ErrorLookupFactory
    from moto.dynamodb.models.table import StreamRecord

    _replace(ErrorLookupFactory, "for_service", _error_lookup)
    _replace(StreamRecord, "__init__", _sized_stream_record(StreamRecord.__init__))
    if settings.PRETTIFY_RESPONSES:
        return  # indented bodies are asked for: leave them to moto
    walk_with_aliases = responses.ActionResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        fast = serialize_plain_result(context, self.result)
        return fast if fast is not None else walk_with_aliases(self, context)

    # Kept reachable so a test can compare both serialisers on the same results.
    responses.ActionResult.moto_execute_result = walk_with_aliases  # type: ignore[attr-defined]
    _replace(responses.ActionResult, "execute_result", execute_result)


# (class, attribute) -> [moto's own, ours], for unpatched().
_REPLACED: dict[tuple[type, str], list[Any]] = {}


def _replace(owner: type, name: str, ours: Any) -> None:
    _REPLACED[(owner, name)] = [getattr(owner, name), ours]
    setattr(owner, name, ours)


@contextmanager
def unpatched() -> Iterator[None]:
    """moto as released inside the block, for tests that compare; the patches return after.

    Tables written inside should not outlive the block (one ``mock_aws()`` per test): the
    Query index does not see their writes.
    """
    for (owner, name), (moto_own, _) in _REPLACED.items():
        setattr(owner, name, moto_own)
    try:
        yield
    finally:
        for (owner, name), (_, ours) in _REPLACED.items():
            setattr(owner, name, ours)
