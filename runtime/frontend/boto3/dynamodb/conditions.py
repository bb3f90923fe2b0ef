# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.dynamodb.conditions: Key and Attr condition builders, as boto3 1.26 names and shapes them.

Building conditions needs no network, so module-level code such as
``KEY = Key('pk').eq('x') & Attr('n').gt(1)`` works in nexus mode. Sending them
does not: ``boto3.client('dynamodb')`` / ``boto3.resource('dynamodb')`` raise
NexusUnsupportedError (set "io: baseline" for such functions).
"""


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


class DynamoDBOperationNotSupportedError(Exception):
    def __init__(self, operation, value):
        super().__init__(f'{operation} operation cannot be applied to value {value} of type {type(value)} directly. '
                         'Must use AttributeBase object methods (i.e. Attr().eq()). to generate ConditionBase instances first.')
