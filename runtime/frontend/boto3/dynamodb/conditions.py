# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.dynamodb.conditions: Key and Attr condition builders, as boto3 1.26 names and shapes them.

Building conditions needs no network, so module-level code such as
``KEY = Key('pk').eq('x') & Attr('n').gt(1)`` works in nexus mode; the stand-in's
DynamoDB resource builds them into expressions (ConditionExpressionBuilder), and the
generic path's real DynamoDB layer accepts them too.
"""

import re
from collections import namedtuple

from boto3.exceptions import (DynamoDBNeedsConditionError, DynamoDBNeedsKeyConditionError,
                              DynamoDBOperationNotSupportedError)

_ATTR_NAME_REGEX = re.compile(r'[^.\[\]]+(?![^\[]*\])')

BuiltConditionExpression = namedtuple(
    'BuiltConditionExpression', ['condition_expression', 'attribute_name_placeholders', 'attribute_value_placeholders'])


class ConditionBase:
    expression_format = ''
    expression_operator = ''
    has_grouped_values = False

    def __init__(self, *values):
        self._values = values

    def __and__(self, other):
        if not isinstance(other, ConditionBase):
            raise DynamoDBOperationNotSupportedError('AND', other)
        return And(self, other)

    def __or__(self, other):
        if not isinstance(other, ConditionBase):
            raise DynamoDBOperationNotSupportedError('OR', other)
        return Or(self, other)

    def __invert__(self):
        return Not(self)

    def get_expression(self):
        return {'format': self.expression_format, 'operator': self.expression_operator, 'values': self._values}

    def __eq__(self, other):
        return isinstance(other, type(self)) and self._values == other._values

    def __ne__(self, other):
        return not self.__eq__(other)


class AttributeBase:
    def __init__(self, name):
        self.name = name

    def __and__(self, value):
        raise DynamoDBOperationNotSupportedError('AND', self)

    def __or__(self, value):
        raise DynamoDBOperationNotSupportedError('OR', self)

    def __invert__(self):
        raise DynamoDBOperationNotSupportedError('NOT', self)

    def eq(self, value):
        return Equals(self, value)

    def lt(self, value):
        return LessThan(self, value)

    def lte(self, value):
        return LessThanEquals(self, value)

    def gt(self, value):
        return GreaterThan(self, value)

    def gte(self, value):
        return GreaterThanEquals(self, value)

    def begins_with(self, value):
        return BeginsWith(self, value)

    def between(self, low_value, high_value):
        return Between(self, low_value, high_value)

    def __eq__(self, other):
        return isinstance(other, type(self)) and self.name == other.name

    def __ne__(self, other):
        return not self.__eq__(other)


def _condition(name, fmt, operator, grouped=False):
    return type(name, (ConditionBase,), {
        'expression_format': fmt, 'expression_operator': operator, 'has_grouped_values': grouped,
        '__module__': __name__})


Equals = _condition('Equals', '{0} {operator} {1}', '=')
NotEquals = _condition('NotEquals', '{0} {operator} {1}', '<>')
LessThan = _condition('LessThan', '{0} {operator} {1}', '<')
LessThanEquals = _condition('LessThanEquals', '{0} {operator} {1}', '<=')
GreaterThan = _condition('GreaterThan', '{0} {operator} {1}', '>')
GreaterThanEquals = _condition('GreaterThanEquals', '{0} {operator} {1}', '>=')
In = _condition('In', '{0} {operator} {1}', 'IN', grouped=True)
Between = _condition('Between', '{0} {operator} {1} AND {2}', 'BETWEEN')
BeginsWith = _condition('BeginsWith', '{operator}({0}, {1})', 'begins_with')
Contains = _condition('Contains', '{operator}({0}, {1})', 'contains')
Size = _condition('Size', '{operator}({0})', 'size')
AttributeType = _condition('AttributeType', '{operator}({0}, {1})', 'attribute_type')
AttributeExists = _condition('AttributeExists', '{operator}({0})', 'attribute_exists')
AttributeNotExists = _condition('AttributeNotExists', '{operator}({0})', 'attribute_not_exists')
And = _condition('And', '({0} {operator} {1})', 'AND')
Or = _condition('Or', '({0} {operator} {1})', 'OR')
Not = _condition('Not', '({operator} {0})', 'NOT')


class Key(AttributeBase):
    pass


class Attr(AttributeBase):
    def ne(self, value):
        return NotEquals(self, value)

    def is_in(self, value):
        return In(self, value)

    def exists(self):
        return AttributeExists(self)

    def not_exists(self):
        return AttributeNotExists(self)

    def contains(self, value):
        return Contains(self, value)

    def size(self):
        return Size(self)

    def attribute_type(self, value):
        return AttributeType(self, value)


class ConditionExpressionBuilder:
    """Builds a condition into its expression with placeholders (#n0 for names, :v0 for values), as boto3 does; the
    counters run on across the conditions of one request until reset."""

    def __init__(self):
        self._name_count = 0
        self._value_count = 0

    def reset(self):
        self._name_count = 0
        self._value_count = 0

    def build_expression(self, condition, is_key_condition=False):
        if not isinstance(condition, ConditionBase):
            raise DynamoDBNeedsConditionError(condition)
        names, values = {}, {}
        expression = self._build(condition, names, values, is_key_condition)
        return BuiltConditionExpression(expression, names, values)

    def _build(self, condition, names, values, is_key_condition):
        expression = condition.get_expression()
        parts = [self._component(value, names, values, condition.has_grouped_values, is_key_condition)
                 for value in expression['values']]
        return expression['format'].format(*parts, operator=expression['operator'])

    def _component(self, value, names, values, grouped, is_key_condition):
        if isinstance(value, ConditionBase):
            return self._build(value, names, values, is_key_condition)
        if isinstance(value, AttributeBase):
            if is_key_condition and not isinstance(value, Key):
                raise DynamoDBNeedsKeyConditionError(
                    f'Attribute object {value.name} is of type {type(value)}. KeyConditionExpression only supports '
                    'Attribute objects of type Key')
            # Each part of a document path (a.b[0].c) gets its own name placeholder; list indexes stay.
            placeholders = tuple(self._name(part, names) for part in _ATTR_NAME_REGEX.findall(value.name))
            return _ATTR_NAME_REGEX.sub('%s', value.name) % placeholders
        if grouped:
            return '(' + ', '.join(self._value(item, values) for item in value) + ')'
        return self._value(value, values)

    def _name(self, name, names):
        placeholder = f'#n{self._name_count}'
        self._name_count += 1
        names[placeholder] = name
        return placeholder

    def _value(self, value, values):
        placeholder = f':v{self._value_count}'
        self._value_count += 1
        values[placeholder] = value
        return placeholder
