# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Every operation of the named services (JSON, query, REST-JSON, EC2) called with inputs generated from its model, and
answered with an answer generated from its model: the request each sends and what each call returns, run with the
stand-in first on sys.path (``standin``: the model-read clients, _nexus_model_clients.py) or with Debian's real
botocore (``real``). Prints JSON that test_model_clients.py compares. The inputs and answers are the same in both
runs (made from the same model files, deterministically); the stand-in's run records only the operations it serves
itself.

  /usr/bin/python3 model_client_probe.py standin SERVICE[,SERVICE...]
  /usr/bin/python3 model_client_probe.py real SERVICE[,SERVICE...] KEYS.json   (the stand-in run's record keys)
"""

import base64
import datetime
import io
import json
import os
import sys
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = '/usr/lib/python3/dist-packages/botocore/data'
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=datetime.timezone.utc)
# Request headers that are transport detail or the SDK's own (user agent, retries, tracing, signing).
_TRANSPORT_HEADERS = ('user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-date', 'authorization',
                      'content-length', 'accept-encoding', 'x-amzn-trace-id', 'expect', 'x-amz-security-token', 'host')


def load_model(service):
    folder = os.path.join(DATA, service)
    version = sorted(os.listdir(folder))[-1]
    with open(os.path.join(folder, version, 'service-2.json')) as f:
        return json.load(f)


class Inputs:
    """Parameters for an input shape: every member set, strings with characters that need encoding, bounded depth."""

    def __init__(self, shapes):
        self.shapes = shapes

    def call_params(self, name):
        """An operation's parameters: every member but those that choose botocore's endpoint (contextParam; a call
        setting one is the real botocore's by design, EventBridge's EndpointId)."""
        members = self.shapes[name]['members']
        return {member: value for member, value in self.value(name, 'in').items()
                if 'contextParam' not in members[member]}

    def value(self, name, label, depth=0):
        shape = self.shapes[name]
        kind = shape['type']
        if kind == 'structure':
            if shape.get('document'):
                return {'doc': [1, 'x']}
            members = list(shape['members'].items())
            if shape.get('union'):
                # One member, as a union holds; past the depth bound a scalar one where there is one.
                scalars = [m for m in members if self.shapes[m[1]['shape']]['type'] not in ('structure', 'list', 'map')]
                members = (scalars or members)[:1] if depth > 4 else members[:1]
            elif depth > 4:
                return {}
            return {member: self.value(ref['shape'], member, depth + 1) for member, ref in members}
        if kind == 'list':
            count = max(shape.get('min', 0), 2) if depth <= 4 else shape.get('min', 0)
            return [self.value(shape['member']['shape'], label, depth + 1) for _ in range(count)]
        if kind == 'map':
            if depth > 4:
                return {}
            return {f'{label}-k{i}': self.value(shape['value']['shape'], label, depth + 1) for i in (1, 2)}
        if kind == 'string':
            if name == 'policyDocumentType':
                # IAM's policy documents: URL-encoded JSON, which botocore decodes into a dict.
                return '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D'
            if 'enum' in shape:
                return shape['enum'][0]
            text = f'{label} v/é'
            return text + 'x' * max(0, shape.get('min', 0) - len(text))
        if kind in ('integer', 'long'):
            return max(shape.get('min', 3), 3) if shape.get('min', 0) <= 3 else shape['min']
        if kind in ('double', 'float'):
            return 1.5
        if kind == 'boolean':
            return True
        if kind == 'timestamp':
            return WHEN
        if kind == 'blob':
            return b'\x00bin\xff'
        raise ValueError(f'{name}: {kind}')


class Answers:
    """An answer to an operation, as its service would send it: status, headers, body."""

    def __init__(self, model):
        self.model = model
        self.shapes = model['shapes']
        self.protocol = model['metadata']['protocol']

    def scalar_text(self, shape, value):
        kind = shape['type']
        if kind == 'boolean':
            return 'true' if value else 'false'
        if kind == 'timestamp':
            return '2024-01-02T03:04:05.123Z'
        if kind == 'blob':
            return base64.b64encode(value).decode()
        return str(value)

    def json_value(self, name, value):
        shape = self.shapes[name]
        kind = shape['type']
        if shape.get('document'):
            return value
        if kind == 'structure':
            return {ref.get('locationName', member): self.json_value(ref['shape'], value[member])
                    for member, ref in shape['members'].items() if member in value and 'location' not in ref}
        if kind == 'list':
            return [self.json_value(shape['member']['shape'], item) for item in value]
        if kind == 'map':
            return {key: self.json_value(shape['value']['shape'], item) for key, item in value.items()}
        if kind == 'timestamp':
            return 1704164645.123
        if kind == 'blob':
            return base64.b64encode(value).decode()
        return value

    def xml(self, name, value, tag, flattened=False):
        shape = self.shapes[name]
        kind = shape['type']
        if kind == 'structure':
            inner = ''.join(self.xml(ref['shape'], value[member], ref.get('locationName', member), ref.get('flattened'))
                            for member, ref in shape['members'].items() if member in value)
            return f'<{tag}>{inner}</{tag}>'
        flattened = flattened or shape.get('flattened')
        if kind == 'list':
            member = shape['member']
            if flattened:
                return ''.join(self.xml(member['shape'], item, member.get('locationName', tag)) for item in value)
            items = ''.join(self.xml(member['shape'], item, member.get('locationName', 'member')) for item in value)
            return f'<{tag}>{items}</{tag}>'
        if kind == 'map':
            key_name, value_name = shape['key'].get('locationName', 'key'), shape['value'].get('locationName', 'value')
            entries = [f'{self.xml(shape["key"]["shape"], key, key_name)}{self.xml(shape["value"]["shape"], item, value_name)}'
                       for key, item in value.items()]
            if flattened:
                return ''.join(f'<{tag}>{entry}</{tag}>' for entry in entries)
            return f'<{tag}>' + ''.join(f'<entry>{entry}</entry>' for entry in entries) + f'</{tag}>'
        text = self.scalar_text(shape, value).replace('&', '&amp;').replace('<', '&lt;')
        return f'<{tag}>{text}</{tag}>'

    def answer(self, operation, op, value=None):
        """(status, headers, body bytes); ``value``: the output's members (else generated)."""
        output = op.get('output')
        headers = {'x-amzn-requestid': 'req-1'}
        if output is None:
            return 200, headers, b'{}' if self.protocol not in ('query', 'ec2') else self._query(operation, op, '')
        shape = self.shapes[output['shape']]
        value = Inputs(self.shapes).value(output['shape'], 'out') if value is None else value
        if self.protocol == 'ec2':
            inner = ''.join(self.xml(ref['shape'], value[member], ref.get('locationName', member), ref.get('flattened'))
                            for member, ref in shape['members'].items() if member in value)
            return 200, headers, self._query(operation, op, inner)
        if self.protocol == 'query':
            inner = self.xml(output['shape'], value, output.get('resultWrapper', 'Result'))
            return 200, headers, self._query(operation, op, inner)
        if self.protocol == 'json':
            return 200, headers, json.dumps(self.json_value(output['shape'], value)).encode()
        status = 200
        for member, ref in shape['members'].items():
            location = ref.get('location')
            member_shape = self.shapes[ref['shape']]
            if location == 'statusCode':
                status = 200
            elif location == 'header':
                if ref.get('locationName', member).lower() == 'content-length':
                    continue   # the body's own length is sent
                if ref.get('jsonvalue'):
                    headers[ref.get('locationName', member)] = base64.b64encode(json.dumps(value[member]).encode()).decode()
                elif member_shape['type'] == 'list':
                    headers[ref.get('locationName', member)] = ','.join(
                        self.scalar_text(self.shapes[member_shape['member']['shape']], item) for item in value[member])
                elif member_shape['type'] == 'timestamp':
                    headers[ref.get('locationName', member)] = 'Tue, 02 Jan 2024 03:04:05 GMT'
                else:
                    headers[ref.get('locationName', member)] = self.scalar_text(member_shape, value[member])
            elif location == 'headers':
                prefix = ref.get('locationName', member)
                for key, item in value[member].items():
                    headers[prefix + key] = item
        payload = shape.get('payload')
        if payload is not None:
            payload_shape = self.shapes[shape['members'][payload]['shape']]
            if payload_shape['type'] == 'blob':
                return status, headers, value[payload]
            if payload_shape['type'] == 'string':
                return status, headers, value[payload].encode()
            if self.protocol == 'rest-xml':
                return status, headers, f"<Root>{self.members_xml(shape['members'][payload]['shape'], value[payload])}</Root>".encode()
            return status, headers, json.dumps(self.json_value(shape['members'][payload]['shape'], value[payload])).encode()
        if self.protocol == 'rest-xml':
            return status, headers, f"<Root>{self.members_xml(output['shape'], value)}</Root>".encode()
        return status, headers, json.dumps(self.json_value(output['shape'], value)).encode()

    def members_xml(self, name, value):
        """A structure's body members as XML elements (its members in the URI, headers or status left out)."""
        return ''.join(self.xml(ref['shape'], value[member], ref.get('locationName', member), ref.get('flattened'))
                       for member, ref in self.shapes[name]['members'].items() if member in value and 'location' not in ref)

    def error(self, name):
        """An error answer of the service's error shape ``name``, in its protocol's form, its members set."""
        shape = self.shapes[name]
        code = shape.get('error', {}).get('code', name)
        status = shape.get('error', {}).get('httpStatusCode', 400)
        value = Inputs(self.shapes).value(name, 'err')
        if self.protocol == 'ec2':
            return status, {}, (f'<Response><Errors><Error><Code>{code}</Code><Message>went wrong</Message></Error>'
                                '</Errors><RequestID>req-1</RequestID></Response>').encode()
        if self.protocol == 'query':
            inner = ''.join(self.xml(ref['shape'], value[member], ref.get('locationName', member))
                            for member, ref in shape['members'].items() if member not in ('message', 'Message'))
            body = (f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>went wrong</Message>{inner}'
                    '</Error><RequestId>req-1</RequestId></ErrorResponse>')
            return status, {'x-amzn-requestid': 'req-1'}, body.encode()
        if self.protocol == 'rest-xml':
            inner = self.members_xml(name, {k: v for k, v in value.items() if k not in ('message', 'Message')})
            body = (f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>went wrong</Message>{inner}'
                    '</Error><RequestId>req-1</RequestId></ErrorResponse>')
            return status, {'x-amzn-requestid': 'req-1'}, body.encode()
        document = self.json_value(name, value)
        document['message'] = 'went wrong'
        if self.protocol == 'json':
            document['__type'] = f'com.amazonaws.example#{code}'
            return status, {'x-amzn-requestid': 'req-1'}, json.dumps(document).encode()
        return status, {'x-amzn-requestid': 'req-1', 'x-amzn-ErrorType': f'{code}:http://internal.amazon.com/'}, \
            json.dumps(document).encode()

    def pages(self, operation, op, config):
        """Three answers of a paginated operation: its next tokens set twice (a string token 't1', 't2'; one read
        from a list, its last element), then not, and the more-results flag where there is one."""
        output = op['output']['shape']
        tokens = config['output_token']
        tokens = [tokens] if isinstance(tokens, str) else tokens
        out = []
        for page in (1, 2, 3):
            value = Inputs(self.shapes).value(output, f'p{page}')
            for expression in tokens:
                _set_token(value, expression, None if page == 3 else f't{page}')
            if config.get('more_results'):
                _set_path(value, config['more_results'], page < 3)
            out.append(self.answer(operation, op, value))
        return out

    def error_code(self, code, status=400):
        """An error answer with ``code`` (no modeled members), in the protocol's form."""
        if self.protocol == 'rest-xml':
            return status, {'x-amzn-requestid': 'req-1'}, (
                f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>went wrong</Message></Error>'
                '<RequestId>req-1</RequestId></ErrorResponse>').encode()
        if self.protocol == 'ec2':
            return status, {}, (f'<Response><Errors><Error><Code>{code}</Code><Message>went wrong</Message></Error>'
                                '</Errors><RequestID>req-1</RequestID></Response>').encode()
        if self.protocol == 'query':
            body = (f'<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>went wrong</Message></Error>'
                    '<RequestId>req-1</RequestId></ErrorResponse>')
            return status, {'x-amzn-requestid': 'req-1'}, body.encode()
        if self.protocol == 'json':
            return status, {'x-amzn-requestid': 'req-1'}, json.dumps({'__type': code, 'message': 'went wrong'}).encode()
        return status, {'x-amzn-requestid': 'req-1', 'x-amzn-ErrorType': code}, b'{"message": "went wrong"}'

    def _query(self, operation, op, inner):
        if self.protocol == 'ec2':
            return (f'<{operation}Response xmlns="https://example.com/doc/"><requestId>req-1</requestId>{inner}'
                    f'</{operation}Response>').encode()
        return (f'<{operation}Response xmlns="https://example.com/doc/">{inner}'
                f'<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{operation}Response>').encode()


def _set_path(value, path, item):
    *steps, last = path.split('.')
    for step in steps:
        value = value.setdefault(step, {})
    value[last] = item


def _set_token(value, expression, token):
    """Sets an output token in a generated answer: a member path's string (None: the member removed), or, for
    ``List[-1]`` and ``List[-1].Member``, the list's last string; other expressions are left as generated."""
    path, _, rest = expression.partition('[-1]')
    if '||' in expression or not all(part.isidentifier() for part in path.split('.')):
        return
    *steps, last = path.split('.')
    for step in steps:
        value = value.get(step) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        return
    if not rest and not expression.endswith('[-1]'):
        if token is None:
            value.pop(last, None)
        elif isinstance(value.get(last), str):
            value[last] = token
        return
    items = value.get(last)
    if token is None or not items:
        return
    if rest.startswith('.') and isinstance(items[-1], dict) and isinstance(items[-1].get(rest[1:]), str):
        items[-1][rest[1:]] = token
    elif not rest and isinstance(items[-1], str):
        items[-1] = token


def configs_of(service, kind, key):
    """The ``key`` table of a service's ``kind`` file (paginators-1, waiters-2), as the files are (no sdk-extras)."""
    folder = os.path.join(DATA, service)
    path = os.path.join(folder, sorted(os.listdir(folder))[-1], kind + '.json')
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)[key]


def normal(value):
    """A JSON-able form of a call's result."""
    if isinstance(value, dict):
        return {str(k): normal(v) for k, v in value.items() if k != 'ResponseMetadata'}
    if isinstance(value, (list, tuple)):
        return [normal(v) for v in value]
    if isinstance(value, datetime.datetime):
        return ['datetime', value.isoformat(), value.utcoffset().total_seconds() if value.utcoffset() is not None else None]
    if isinstance(value, (bytes, bytearray)):
        return ['bytes', base64.b64encode(bytes(value)).decode()]
    if hasattr(value, 'read'):
        return ['stream', base64.b64encode(value.read()).decode()]
    return value


def request_record(method, url_path, headers, body):
    split = urlsplit(url_path)
    kept = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in headers.items()
            if k.lower() not in _TRANSPORT_HEADERS}
    body = body or b''
    if isinstance(body, str):
        body = body.encode()
    content_type = kept.get('content-type', '')
    if 'json' in content_type and body:
        shown = json.loads(body)
    elif 'x-www-form-urlencoded' in content_type:
        shown = sorted((k, _presigned_shape(v) if k in _PRESIGNED_MEMBERS else v)
                       for k, v in parse_qsl(body.decode(), keep_blank_values=True))
    else:
        shown = base64.b64encode(body).decode()
    return {'method': method, 'path': split.path, 'query': sorted(split.query.split('&')) if split.query else [],
            'headers': kept, 'body': shown}


# The members botocore's handlers fill with a URL presigned in the source region (EC2's CopySnapshot, RDS's copies).
_PRESIGNED_MEMBERS = ('PresignedUrl', 'PreSignedUrl')


def _presigned_shape(url):
    """A presigned URL as compared: where it goes and its parameters in order of name, without the signature's
    (X-Amz-*): the real run's botocore signs nothing (UNSIGNED), and the stand-in's channel answers the URL the
    backend would sign, unsigned."""
    split = urlsplit(url)
    return [f'{split.scheme}://{split.netloc}{split.path}',
            sorted(p for p in parse_qsl(split.query, keep_blank_values=True) if not p[0].startswith('X-Amz-'))]


def refuse_the_real_sdk():
    """In the stand-in's run, a call that would go to the real botocore (generic path) fails instead, so a record can
    only be equal to the real botocore's if the stand-in made it itself."""
    from botocore import _nexus_generic

    def refused():
        raise RuntimeError('the stand-in left this call to the real SDK (generic path)')
    _nexus_generic._load = refused


def answering_transport(mode, answer):
    """Where a probe's requests go: ``answer(record)`` gives (status, headers, body) for each request's record. The
    stand-in's run: its channel, the real SDK refused (returns None); the real run: a before-send handler to register
    on each client (returned)."""
    if mode == 'standin':
        import botocore.client

        class Response:
            def __init__(self, status, headers, body, meta=None):
                # The backend hands header names over in lower case (ServiceRequests.cs).
                self.status, self.meta = status, meta or {'Headers': {k.lower(): v for k, v in headers.items()}}
                self.body = io.BytesIO(body)

        class Channel:
            def call(self, op, params, body=None, timeout=None):
                if op == 'GeneratePresignedUrl':
                    # As botocore writes a URL presigned in the source region: the service's endpoint there (RDS's,
                    # for Neptune and DocumentDB, whose endpoint prefix is rds).
                    request = params['Request']
                    prefix = 'rds' if request['Service'] in ('neptune', 'docdb') else request['Service']
                    url = f"https://{prefix}.{params['Region']}.amazonaws.com{request['Path']}"
                    return Response(200, {}, b'', meta={'Url': url})
                return Response(*answer(request_record(params['Method'], params['Path'], params['Headers'], body)))
        botocore.client._set_transport(Channel())
        refuse_the_real_sdk()
        return None
    from botocore.awsrequest import AWSResponse

    def send(request, **_):
        status, headers, body = answer(request_record(request.method, request.url, dict(request.headers),
                                                      request.body))
        return AWSResponse(request.url, status, headers, _Raw(body))
    return send


class _Raw:
    def __init__(self, data):
        self._data = io.BytesIO(data)

    def stream(self, **kwargs):
        yield self._data.read()

    def read(self, amt=None):
        return self._data.read(-1 if amt is None else amt)

    def close(self):
        pass


def main(mode, services, only=()):
    if mode == 'standin':
        sys.path.insert(0, os.path.dirname(HERE))
    import boto3
    import botocore
    from botocore.config import Config
    captured = {}

    def answer(record):
        captured['request'] = record
        captured.setdefault('requests', []).append(record)
        return next_answer()
    send = answering_transport(mode, answer)

    def next_answer():
        """The answer to the next request: the one answer, or the next of a paginated call's."""
        return captured['answers'].pop(0) if 'answers' in captured else captured['answer']

    out = {}
    for service in services:
        model = load_model(service)
        config = Config(retries={'max_attempts': 0}, parameter_validation=True,
                        **({} if mode == 'standin' else {'signature_version': botocore.UNSIGNED}))
        if mode == 'standin':
            from botocore._nexus_service import stand_in_client_class
            if stand_in_client_class(service) is None:
                continue   # the real botocore's client (generic path): nothing of the stand-in's to compare
        client = boto3.client(service, region_name='us-east-1', config=config)
        # The stand-in's run: only what its client serves itself (a curated client's slice, a model-read one's model).
        # (Lambda's and S3's clients are written by hand: their own tests compare them.)
        model_slice = getattr(type(client), 'MODEL', None)
        if mode == 'standin':
            # A curated client serves the rest of its service's model too (its instance reads the whole model when an
            # operation outside its slice is first called).
            from botocore._nexus_model_clients import model_client_class
            whole = model_client_class(service) if model_slice is not None or service == 'lambda' else None
            served = set(whole.MODEL.OPERATIONS) if whole is not None else set()
            if service == 'lambda':
                served.discard('Invoke')   # the own client's, compared by its own tests (test_lambda.py, LambdaStandInTests)
        else:
            served = {key.split('.', 1)[1].split('!')[0] for key in only
                      if key.split('.', 1)[0] == service and not key.endswith('#pages') and '@' not in key}
        if mode == 'real':
            client.meta.events.register('before-send', send)
        inputs, answers = Inputs(model['shapes']), Answers(model)
        from botocore import xform_name
        for operation, op in sorted(model['operations'].items()):
            if operation not in served:
                continue
            # No input shape: botocore ignores what the call is given (the stand-in must too).
            params = inputs.call_params(op['input']['shape']) if 'input' in op else {'Ignored': 1}
            if service == 'glacier':
                params.pop('accountId', None)   # botocore's handler gives '-'; so must the stand-in
            def record(calling, call_params):
                """The call answered with its operation's generated answer: its request and its outcome."""
                captured.clear()
                captured['answer'] = answers.answer(operation, op)
                try:
                    result = ['ok', normal(getattr(calling, xform_name(operation))(**call_params))]
                except Exception as e:  # the outcome is the record
                    result = ['error', type(e).__name__, str(e)[:300]]
                return {'request': captured.get('request'), 'result': result}
            out[f'{service}.{operation}'] = record(client, params)
            presigned = [m for m in _PRESIGNED_MEMBERS if m in params]
            if presigned:
                # Again without the presigned URL, which botocore's handler then makes (the source region's). The
                # real run's client signs (an unsigned botocore leaves the call's parameters out of the URL); the
                # stand-in's URL comes from its channel, as the backend would sign it.
                signing = client
                if mode == 'real':
                    signing = boto3.client(service, region_name='us-east-1', aws_access_key_id='AKIDPROBE',
                                           aws_secret_access_key='probe', config=Config(retries={'max_attempts': 0}))
                    signing.meta.events.register('before-send', send)
                variant = {k: v for k, v in params.items() if k not in presigned}
                if 'PreSignedUrl' in presigned:
                    # RDS's SourceRegion is in the model's sdk-extras (which this probe's inputs do not read): the
                    # handler presigns only when it is given.
                    variant['SourceRegion'] = 'us-west-2'
                out[f'{service}.{operation}#presigned'] = record(signing, variant)
        # Errors: each of the service's error shapes answered to its first served operation.
        first = next((name for name in sorted(served) if 'input' in model['operations'][name]), None)
        for error in sorted(name for name, shape in model['shapes'].items() if shape.get('exception')) if first else ():
            op = model['operations'][first]
            captured.clear()
            captured['answer'] = answers.error(error)
            try:
                getattr(client, xform_name(first))(**inputs.value(op['input']['shape'], 'in'))
                result = ['no error']
            except Exception as e:  # the outcome is the record
                response = getattr(e, 'response', {})
                result = [type(e).__name__, normal(response), isinstance(e, getattr(client.exceptions, error, ()))]
            out[f'{service}.{first}!{error}'] = {'result': result}
        # Paginators: three pages, MaxItems past the first page's items (truncation and a resume token), then resumed.
        if mode == 'standin':
            paginated = sorted(whole.PAGINATORS) if whole is not None else []
        else:
            paginated = [key.split('.', 1)[1].split('#')[0] for key in only
                         if key.split('.', 1)[0] == service and key.endswith('#pages')]
        configs = configs_of(service, 'paginators-1', 'pagination')
        for method in paginated:
            operation = next(name for name in model['operations'] if xform_name(name) == method)
            op, config = model['operations'][operation], configs[operation]
            params = inputs.call_params(op['input']['shape'])
            tokens = config['input_token']
            for name in ([tokens] if isinstance(tokens, str) else tokens) + [config.get('limit_key')]:
                params.pop(name, None)
            record = []
            first = {'MaxItems': 3, 'PageSize': 2} if config.get('limit_key') else {'MaxItems': 3}
            for pagination in (first, 'resume'):
                captured.clear()
                captured['answers'] = answers.pages(operation, op, config)
                try:
                    if pagination == 'resume':
                        pagination = {'StartingToken': record[0][1].get('NextToken')}
                    iterator = client.get_paginator(method).paginate(**params, PaginationConfig=pagination)
                    result = ['ok', normal(iterator.build_full_result())]
                except Exception as e:  # the outcome is the record
                    result = ['error', type(e).__name__, str(e)[:300]]
                record.append(result)
                record.append(captured.get('requests'))
            out[f'{service}.{method}#pages'] = {'result': record}
        # Waiters: the generated answer three times, and each error and status acceptor's answer three times.
        if mode == 'standin':
            from botocore._nexus_sdk_data import waiter_configs
            waited = sorted(name for name, config in waiter_configs(service).items()
                            if whole is not None and config['operation'] in whole.MODEL.OPERATIONS)
        else:
            waited = [key.split('.', 1)[1].split('@')[0] for key in only
                      if key.split('.', 1)[0] == service and '@' in key]
        configs = configs_of(service, 'waiters-2', 'waiters')
        for name in dict.fromkeys(waited):
            config = configs[name]
            op = model['operations'][config['operation']]
            params = inputs.call_params(op['input']['shape'])
            scenarios = {'generated': [answers.answer(config['operation'], op)] * 3}
            for acceptor in config['acceptors']:
                if acceptor['matcher'] == 'error':
                    scenarios[f"error {acceptor['expected']}"] = [answers.error_code(acceptor['expected'])] * 3
                elif acceptor['matcher'] == 'status':
                    status = acceptor['expected']
                    answer = answers.answer(config['operation'], op) if status < 300 else answers.error_code('Status', status)
                    scenarios[f'status {status}'] = [(status,) + answer[1:]] * 3
            for scenario, answers_of in scenarios.items():
                captured.clear()
                captured['answers'] = list(answers_of)
                try:
                    client.get_waiter(xform_name(name)).wait(**params, WaiterConfig={'Delay': 0, 'MaxAttempts': 3})
                    result = ['ok']
                except Exception as e:  # the outcome is the record
                    result = [type(e).__name__, str(e)[:300]]
                out[f'{service}.{name}@{scenario}'] = {'result': result + [len(captured.get('requests', []))]}
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == '__main__':
    # The real run makes the records the stand-in's run made (their keys as a JSON list in a file).
    main(sys.argv[1], sys.argv[2].split(','), json.load(open(sys.argv[3])) if len(sys.argv) > 3 else ())
