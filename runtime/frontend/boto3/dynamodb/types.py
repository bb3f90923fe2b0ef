# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.dynamodb.types: Binary, TypeSerializer and TypeDeserializer with boto3 1.26's names and behaviour (the
DynamoDB high-level interface's conversions between Python values and attribute values).

The generic path binds this Binary into the real module when the real SDK loads (botocore/_nexus_generic.py), so a
Binary a handler made is what the real DynamoDB layer checks for and makes.
"""

from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow

STRING = 'S'
NUMBER = 'N'
BINARY = 'B'
STRING_SET = 'SS'
NUMBER_SET = 'NS'
BINARY_SET = 'BS'
NULL = 'NULL'
BOOLEAN = 'BOOL'
MAP = 'M'
LIST = 'L'

DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])

BINARY_TYPES = (bytearray, bytes)


class Binary:
    """Binary data for an item: bytes or bytearray (text is refused, as boto3 refuses it)."""

    def __init__(self, value):
        if not isinstance(value, BINARY_TYPES):
            raise TypeError(f'Value must be of the following types: {", ".join(str(t) for t in BINARY_TYPES)}')
        self.value = value

    def __eq__(self, other):
        if isinstance(other, Binary):
            return self.value == other.value
        return self.value == other

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return f'Binary({self.value!r})'

    def __str__(self):
        return self.value

    def __bytes__(self):
        return self.value

    def __hash__(self):
        return hash(self.value)


def _is_number(value):
    if isinstance(value, (int, Decimal)):
        return True
    if isinstance(value, float):
        raise TypeError('Float types are not supported. Use Decimal types instead.')
    return False


def _is_binary(value):
    return isinstance(value, (Binary, bytearray, bytes))


def _is_set_of(value, check):
    return isinstance(value, Set) and False not in map(check, value)


class TypeSerializer:
    """A Python value as a DynamoDB attribute value ({'S': ...}, {'N': ...}, ...)."""

    def serialize(self, value):
        kind = self._get_dynamodb_type(value)
        return {kind: getattr(self, f'_serialize_{kind}'.lower())(value)}

    def _get_dynamodb_type(self, value):
        if value is None:
            return NULL
        if isinstance(value, bool):
            return BOOLEAN
        if _is_number(value):
            return NUMBER
        if isinstance(value, str):
            return STRING
        if _is_binary(value):
            return BINARY
        if _is_set_of(value, _is_number):
            return NUMBER_SET
        if _is_set_of(value, lambda v: isinstance(v, str)):
            return STRING_SET
        if _is_set_of(value, _is_binary):
            return BINARY_SET
        if isinstance(value, Mapping):
            return MAP
        if isinstance(value, (list, tuple)):
            return LIST
        raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')

    def _serialize_null(self, value):
        return True

    def _serialize_bool(self, value):
        return value

    def _serialize_n(self, value):
        number = str(DYNAMODB_CONTEXT.create_decimal(value))
        if number in ('Infinity', 'NaN'):
            raise TypeError('Infinity and NaN not supported')
        return number

    def _serialize_s(self, value):
        return value

    def _serialize_b(self, value):
        return value.value if isinstance(value, Binary) else value

    def _serialize_ss(self, value):
        return [self._serialize_s(s) for s in value]

    def _serialize_ns(self, value):
        return [self._serialize_n(n) for n in value]

    def _serialize_bs(self, value):
        return [self._serialize_b(b) for b in value]

    def _serialize_l(self, value):
        return [self.serialize(v) for v in value]

    def _serialize_m(self, value):
        return {k: self.serialize(v) for k, v in value.items()}


class TypeDeserializer:
    """A DynamoDB attribute value as a Python value (numbers as Decimal, binary as Binary, sets as set)."""

    def deserialize(self, value):
        if not value:
            raise TypeError('Value must be a nonempty dictionary whose key is a valid dynamodb type.')
        kind = list(value.keys())[0]
        try:
            deserializer = getattr(self, f'_deserialize_{kind}'.lower())
        except AttributeError:
            raise TypeError(f'Dynamodb type {kind} is not supported')
        return deserializer(value[kind])

    def _deserialize_null(self, value):
        return None

    def _deserialize_bool(self, value):
        return value

    def _deserialize_n(self, value):
        return DYNAMODB_CONTEXT.create_decimal(value)

    def _deserialize_s(self, value):
        return value

    def _deserialize_b(self, value):
        return Binary(value)

    def _deserialize_ns(self, value):
        return set(map(self._deserialize_n, value))

    def _deserialize_ss(self, value):
        return set(map(self._deserialize_s, value))

    def _deserialize_bs(self, value):
        return set(map(self._deserialize_b, value))

    def _deserialize_l(self, value):
        return [self.deserialize(v) for v in value]

    def _deserialize_m(self, value):
        return {k: self.deserialize(v) for k, v in value.items()}
