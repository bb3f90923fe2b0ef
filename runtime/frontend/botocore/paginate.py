# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's paginators, with botocore 1.29's paging, MaxItems truncation, resume tokens, full results and
non-aggregate keys, for the operations its own clients serve, and the model-read clients' from their services'
paginators-1.json (_nexus_model_clients.py):

- S3 (paginators-1.json): ListObjectsV2 pages by ContinuationToken <- NextContinuationToken, ListObjects by
  Marker <- "NextMarker || Contents[-1].Key", both while IsTruncated, limit MaxKeys, results Contents and
  CommonPrefixes;
- DynamoDB: Query and Scan page by ExclusiveStartKey <- LastEvaluatedKey, limit Limit, results Items, Count and
  ScannedCount, ConsumedCapacity kept from the first page;
- the others: one or several tokens (Route 53's record name, type and identifier), result and non-aggregate keys that
  are members or dotted paths of members (Athena's ResultSet.Rows), output tokens that are JMESPath expressions
  (Kinesis's StreamNames[-1], read with the jmespath package the image holds).

Result keys are paths of members, so no JMESPath is needed for them but for search().
"""

import base64
import json
from itertools import tee

from botocore.exceptions import PaginationError


class PagingModel:
    """One operation's paginator configuration, as botocore's paginators-1.json gives it."""

    def __init__(self, input_token, output_token, limit_key, result_keys, more_results=None, non_aggregate_keys=(),
                 limit_is_text=False):
        # The request members the next tokens go in, and for each, page -> its next token (None: no more).
        self.input_tokens = (input_token,) if isinstance(input_token, str) else tuple(input_token)
        self.output_tokens = (output_token,) if callable(output_token) else tuple(output_token)
        self.limit_key = limit_key                  # None: the operation takes no page size
        self.result_keys = tuple(result_keys)       # member paths ('Items', 'ResultSet.Rows')
        self.more_results = more_results            # a member path that says whether there are more pages
        self.non_aggregate_keys = tuple(non_aggregate_keys)
        self.limit_is_text = limit_is_text          # the page size member is a string (sent as str(PageSize))


class ResultKey:
    """A result key as botocore hands it out: jmespath's compiled expression of a member path (its expression, parsed
    tree, repr and search), without loading jmespath."""

    def __init__(self, path):
        self.expression = path
        tree = None
        for name in path.split('.'):
            field = {'type': 'field', 'children': [], 'value': name}
            tree = field if tree is None else {'type': 'subexpression', 'children': [tree, field]}
        self.parsed = tree

    def search(self, value, options=None):
        return path_get(value, self.expression)

    def __repr__(self):
        return repr(self.parsed)


def path_get(value, path):
    """A member path's value (None where a step is missing or not a structure), as jmespath reads a field path."""
    for name in path.split('.'):
        value = value.get(name) if isinstance(value, dict) else None
    return value


def path_set(target, path, value):
    """botocore's set_value_from_jmespath: the structures on the way made."""
    head, _, rest = path.partition('.')
    if rest:
        if head not in target:
            target[head] = {}
        path_set(target[head], rest, value)
    else:
        target[head] = value


def _member(name):
    return lambda page: page.get(name)


def output_token(expression):
    """page -> an output token of paginators-1.json: a member path read here, any other JMESPath expression
    (StreamNames[-1], "NextMarker || Contents[-1].Key") by the jmespath package."""
    if all(part.isidentifier() for part in expression.split('.')):
        return lambda page: path_get(page, expression)
    compiled = []

    def search(page):
        if not compiled:   # jmespath loaded on the first page that needs it
            import jmespath
            compiled.append(jmespath.compile(expression))
        return compiled[0].search(page)
    return search


def _v1_marker(page):
    contents = page.get('Contents')
    return page.get('NextMarker') or (contents[-1].get('Key') if contents else None)


_S3_RESULTS = ('Contents', 'CommonPrefixes')
_DDB_RESULTS = ('Items', 'Count', 'ScannedCount')

S3_PAGINATORS = {
    'list_objects_v2': PagingModel('ContinuationToken', _member('NextContinuationToken'), 'MaxKeys', _S3_RESULTS,
                                   'IsTruncated'),
    'list_objects': PagingModel('Marker', _v1_marker, 'MaxKeys', _S3_RESULTS, 'IsTruncated'),
}
DYNAMODB_PAGINATORS = {
    name: PagingModel('ExclusiveStartKey', _member('LastEvaluatedKey'), 'Limit', _DDB_RESULTS,
                      non_aggregate_keys=('ConsumedCapacity',))
    for name in ('query', 'scan')
}


def _encode_token(token):
    """botocore's TokenEncoder: JSON in base64; bytes (a binary key) as base64 named in boto_encoded_keys."""
    try:
        text = json.dumps(token)
    except (TypeError, UnicodeDecodeError):
        paths = []
        encoded = _encode_bytes(token, [], paths)
        encoded['boto_encoded_keys'] = paths
        text = json.dumps(encoded)
    return base64.b64encode(text.encode('utf-8')).decode('utf-8')


def _encode_bytes(data, path, paths):
    if isinstance(data, dict):
        return {key: _encode_bytes(value, path + [key], paths) for key, value in data.items()}
    if isinstance(data, list):
        return [_encode_bytes(value, path + [i], paths) for i, value in enumerate(data)]
    if isinstance(data, bytes):
        paths.append(path)
        return base64.b64encode(data).decode('utf-8')
    return data


def _decode_token(token):
    """botocore's TokenDecoder."""
    decoded = json.loads(base64.b64decode(token.encode('utf-8')).decode('utf-8'))
    for path in decoded.pop('boto_encoded_keys', None) or ():
        container = decoded
        for step in path[:-1]:
            container = container[step]
        container[path[-1]] = base64.b64decode(container[path[-1]].encode('utf-8'))
    return decoded


def _empty_like(sample):
    if isinstance(sample, list):
        return []
    if isinstance(sample, str):
        return ''
    if isinstance(sample, (int, float)):
        return 0
    return None


class PageIterator:
    """Iterable of response pages; like botocore's, it is not itself an iterator."""

    def __init__(self, method, model, max_items, starting_token, page_size, op_kwargs):
        self._method = method
        self._model = model
        self._max_items = max_items
        self._starting_token = starting_token
        self._page_size = page_size
        self._op_kwargs = op_kwargs
        self._resume_token = None
        self._non_aggregate_part = {}

    @property
    def result_keys(self):
        return [ResultKey(key) for key in self._model.result_keys]

    @property
    def resume_token(self):
        return self._resume_token

    @resume_token.setter
    def resume_token(self, value):
        if not isinstance(value, dict):
            raise ValueError(f'Bad starting token: {value}')
        tokens = list(self._model.input_tokens)
        expected = sorted(tokens + ['boto_truncate_amount'] if 'boto_truncate_amount' in value else tokens)
        if sorted(value) != expected:
            raise ValueError(f'Bad starting token: {value}')
        self._resume_token = _encode_token(value)

    @property
    def non_aggregate_part(self):
        return self._non_aggregate_part

    def _parse_starting_token(self):
        try:
            token = _decode_token(self._starting_token)
            index = token.pop('boto_truncate_amount', 0)
            return token, index
        except (ValueError, TypeError):
            # botocore's fallback for old-style "token___token___index" strings.
            tokens = self._model.input_tokens
            parts = self._starting_token.split('___')
            index = 0
            if len(parts) == len(tokens) + 1:
                try:
                    index = int(parts.pop())
                except ValueError:
                    parts = [self._starting_token]
            values = [None if part == 'None' else part for part in parts]
            if len(values) > len(tokens):
                raise ValueError(f'Bad starting token: {self._starting_token}') from None
            values += [None] * (len(tokens) - len(values))
            return dict(zip(tokens, values)), index

    def __iter__(self):
        model = self._model
        kwargs = self._op_kwargs
        primary = model.result_keys[0]
        previous_next_token = None
        next_token = {token: None for token in model.input_tokens}
        starting_index = 0
        if self._starting_token is not None:
            next_token, starting_index = self._parse_starting_token()
            self._inject_token(kwargs, next_token)
        if self._page_size is not None:
            kwargs[model.limit_key] = self._page_size
        total_items = 0
        first_request = True
        while True:
            page = self._method(**kwargs)
            if first_request:
                if self._starting_token is not None:
                    data = path_get(page, primary)
                    path_set(page, primary, data[starting_index:] if isinstance(data, (list, str)) else None)
                    for key in model.result_keys[1:]:
                        path_set(page, key, _empty_like(path_get(page, key)))
                else:
                    starting_index = 0
                first_request = False
                self._non_aggregate_part = {}
                for key in model.non_aggregate_keys:
                    path_set(self._non_aggregate_part, key, path_get(page, key))
            else:
                starting_index = 0
            current = path_get(page, primary) or []
            truncate_amount = 0
            if self._max_items is not None:
                truncate_amount = total_items + len(current) - self._max_items
            if truncate_amount > 0:
                keep = len(current) - truncate_amount
                path_set(page, primary, current[:keep])
                next_token['boto_truncate_amount'] = keep + starting_index
                self.resume_token = next_token
                yield page
                break
            yield page
            total_items += len(current)
            next_token = self._next_token(page)
            if all(t is None for t in next_token.values()):
                break
            if self._max_items is not None and total_items == self._max_items:
                self.resume_token = next_token
                break
            if previous_next_token is not None and previous_next_token == next_token:
                raise PaginationError(message=f'The same next token was received twice: {next_token}')
            self._inject_token(kwargs, next_token)
            previous_next_token = next_token

    def _next_token(self, page):
        model = self._model
        if model.more_results is not None and not path_get(page, model.more_results):
            return {}
        return {name: token(page) or None for token, name in zip(model.output_tokens, model.input_tokens)}

    @staticmethod
    def _inject_token(kwargs, next_token):
        for name, token in next_token.items():
            if token is not None and token != 'None':
                kwargs[name] = token
            elif name in kwargs:
                del kwargs[name]

    def search(self, expression):
        """JMESPath over each page, flattening lists (needs the jmespath package, loaded only here)."""
        try:
            import jmespath
        except ImportError:
            from botocore.exceptions import NexusUnsupportedError
            raise NexusUnsupportedError(what='PageIterator.search (the jmespath package is not installed)') from None
        compiled = jmespath.compile(expression)
        for page in self:
            results = compiled.search(page)
            if isinstance(results, list):
                yield from results
            else:
                yield results

    def result_key_iters(self):
        keys = self.result_keys
        pages = tee(self, len(keys))
        return [ResultKeyIterator(p, key) for p, key in zip(pages, keys)]

    def build_full_result(self):
        complete = {}
        for page in self:
            for key in self._model.result_keys:
                value = path_get(page, key)
                if value is None:
                    continue
                existing = path_get(complete, key)
                if existing is None:
                    path_set(complete, key, value)
                elif isinstance(value, list):
                    existing.extend(value)
                elif isinstance(value, (int, float, str)):
                    path_set(complete, key, existing + value)
        # botocore's merge_dicts of the first page's non-aggregate keys (a key the page lacked is set to None).
        from botocore._nexus_model_reader import deep_merge
        deep_merge(complete, self._non_aggregate_part)
        if self.resume_token is not None:
            complete['NextToken'] = self.resume_token
        return complete


class ResultKeyIterator:
    """Iterates the items of one result key across pages."""

    def __init__(self, pages_iterator, result_key):
        self._pages_iterator = pages_iterator
        self.result_key = result_key

    def __iter__(self):
        for page in self._pages_iterator:
            results = self.result_key.search(page)
            if results is None:
                results = []
            yield from results


class Paginator:
    PAGE_ITERATOR_CLS = PageIterator

    def __init__(self, method, model):
        self._method = method
        self._model = model

    @property
    def result_keys(self):
        return [ResultKey(key) for key in self._model.result_keys]

    def paginate(self, **kwargs):
        config = kwargs.pop('PaginationConfig', {})
        max_items = config.get('MaxItems', None)
        if max_items is not None:
            max_items = int(max_items)
        page_size = config.get('PageSize', None)
        if page_size is not None:
            if self._model.limit_key is None:
                raise PaginationError(message='PageSize parameter is not supported for the pagination interface for '
                                              'this operation.')
            if not self._model.limit_is_text:
                page_size = int(page_size)
            elif not isinstance(page_size, str):
                page_size = str(page_size)
        return self.PAGE_ITERATOR_CLS(self._method, self._model, max_items, config.get('StartingToken', None),
                                      page_size, kwargs)
