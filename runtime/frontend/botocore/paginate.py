# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The list_objects_v2 and list_objects paginators, with botocore's paging, MaxItems truncation and resume tokens.

Config from botocore's S3 paginators-1.json: more results IsTruncated, limit key
MaxKeys, result keys Contents and CommonPrefixes; ListObjectsV2 pages by
ContinuationToken <- NextContinuationToken, ListObjects by
Marker <- "NextMarker || Contents[-1].Key".
"""

from botocore.exceptions import PaginationError

_MORE_RESULTS = 'IsTruncated'
_LIMIT_KEY = 'MaxKeys'
_RESULT_KEYS = ('Contents', 'CommonPrefixes')


def _v2_token(page):
    return page.get('NextContinuationToken')


def _v1_token(page):
    contents = page.get('Contents')
    return page.get('NextMarker') or (contents[-1].get('Key') if contents else None)


# operation name -> (input token, output token expression)
PAGINATORS = {
    'list_objects_v2': ('ContinuationToken', _v2_token),
    'list_objects': ('Marker', _v1_token),
}


def _encode_token(token):
    import base64
    import json
    return base64.b64encode(json.dumps(token).encode('utf-8')).decode('utf-8')


def _decode_token(token):
    import base64
    import json
    return json.loads(base64.b64decode(token.encode('utf-8')).decode('utf-8'))


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

    def __init__(self, method, input_token, output_token, max_items, starting_token, page_size, op_kwargs):
        self._method = method
        self._input_token = input_token
        self._output_token = output_token
        self._max_items = max_items
        self._starting_token = starting_token
        self._page_size = page_size
        self._op_kwargs = op_kwargs
        self._resume_token = None

    @property
    def result_keys(self):
        return list(_RESULT_KEYS)

    @property
    def resume_token(self):
        return self._resume_token

    @resume_token.setter
    def resume_token(self, value):
        if not isinstance(value, dict):
            raise ValueError(f'Bad starting token: {value}')
        expected = sorted([self._input_token, 'boto_truncate_amount'] if 'boto_truncate_amount' in value else [self._input_token])
        if sorted(value) != expected:
            raise ValueError(f'Bad starting token: {value}')
        self._resume_token = _encode_token(value)

    @property
    def non_aggregate_part(self):
        return {}

    def _parse_starting_token(self):
        try:
            token = _decode_token(self._starting_token)
            index = token.pop('boto_truncate_amount', 0)
            return token, index
        except (ValueError, TypeError):
            # botocore's fallback for old-style "token___index" strings.
            parts = self._starting_token.split('___')
            index = 0
            if len(parts) == 2:
                try:
                    index = int(parts.pop())
                except ValueError:
                    parts = [self._starting_token]
            value = parts[0]
            return {self._input_token: None if value == 'None' else value}, index

    def __iter__(self):
        kwargs = self._op_kwargs
        previous_next_token = None
        next_token = {self._input_token: None}
        starting_index = 0
        if self._starting_token is not None:
            next_token, starting_index = self._parse_starting_token()
            self._inject_token(kwargs, next_token)
        if self._page_size is not None:
            kwargs[_LIMIT_KEY] = self._page_size
        total_items = 0
        first_request = True
        while True:
            page = self._method(**kwargs)
            if first_request:
                if self._starting_token is not None:
                    contents = page.get('Contents')
                    page['Contents'] = contents[starting_index:] if isinstance(contents, list) else None
                    page['CommonPrefixes'] = _empty_like(page.get('CommonPrefixes'))
                else:
                    starting_index = 0
                first_request = False
            else:
                starting_index = 0
            current = page.get('Contents') or []
            truncate_amount = 0
            if self._max_items is not None:
                truncate_amount = total_items + len(current) - self._max_items
            if truncate_amount > 0:
                keep = len(current) - truncate_amount
                page['Contents'] = current[:keep]
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
        if not page.get(_MORE_RESULTS):
            return {}
        return {self._input_token: self._output_token(page) or None}

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
        from itertools import tee
        pages = tee(self, len(_RESULT_KEYS))
        return [ResultKeyIterator(p, key) for p, key in zip(pages, _RESULT_KEYS)]

    def build_full_result(self):
        complete = {}
        for page in self:
            for key in _RESULT_KEYS:
                value = page.get(key)
                if value is None:
                    continue
                existing = complete.get(key)
                if existing is None:
                    complete[key] = value
                elif isinstance(value, list):
                    existing.extend(value)
                elif isinstance(value, (int, float, str)):
                    complete[key] = existing + value
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
            results = page.get(self.result_key)
            if results is None:
                results = []
            yield from results


class Paginator:
    PAGE_ITERATOR_CLS = PageIterator

    def __init__(self, method, input_token, output_token):
        self._method = method
        self._input_token = input_token
        self._output_token = output_token

    @property
    def result_keys(self):
        return list(_RESULT_KEYS)

    def paginate(self, **kwargs):
        config = kwargs.pop('PaginationConfig', {})
        max_items = config.get('MaxItems', None)
        if max_items is not None:
            max_items = int(max_items)
        page_size = config.get('PageSize', None)
        if page_size is not None:
            page_size = int(page_size)
        return self.PAGE_ITERATOR_CLS(self._method, self._input_token, self._output_token, max_items,
                                      config.get('StartingToken', None), page_size, kwargs)
