# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Model-read clients: a client of any service the stand-in has no own client for (botocore.client.OWN_CLIENTS), made
from the service's whole model in the function image's botocore (its data folder, read as JSON: the real SDK is not
imported), for every protocol of botocore 1.29 (JSON, query, REST-JSON, EC2, REST-XML; S3 is the fast path's). Its
calls are checked, sent, parsed and retried by the same model-driven clients as the curated ones (_nexus_json.py,
_nexus_query.py, _nexus_rest.py, _nexus_rest_xml.py), with the service's legacy retry policy from botocore's
_retry.json.

An operation the model-driven clients cannot send as botocore sends it is the real botocore's (generic path, loaded on
first use): one that needs a host prefix, endpoint discovery or a checksum, has an input they do not serialize
(documents, unions, event streams, host labels), answers an event stream or is signed otherwise (bearer, an unsigned
body), and those botocore customizes with handlers (_CUSTOMIZED). The handlers of Route 53's ids, IAM's policy
documents, API Gateway's Accept header, Glacier's account, version and checksums, EC2's and Auto Scaling's user data,
EC2's console output, CloudFormation's template body and the presigned URL of a copy from another region (EC2, RDS,
Neptune, DocumentDB) are done here as botocore's handlers do them (_HANDLERS), and so is RDS's generate_db_auth_token;
URLs are signed by the backend. Other presigned URLs are the real botocore's requests, signed by the backend too
(_nexus_generic.py). Operations botocore sends unsigned (Cognito's sign-in, STS's web identity) are served like the
others. The paginators are the stand-in's (paginate.py: one or several tokens, member paths
as result keys, output tokens as JMESPath expressions), and so are waiters (waiter.py, from the service's
waiters-2.json).
"""

import _thread
import json
import os
import re
import sys

from botocore import _nexus_model_reader as reader
from botocore._nexus_sdk_data import data_folder
from botocore import xform_name

# Services and operations botocore 1.29's handlers change (botocore/handlers.py): None for a whole service.
_CUSTOMIZED = {
    's3': None,                   # the fast path's (botocore/client.py)
}

# botocore's parameter aliases (handlers.py's _add_parameter_aliases): {service: (operation or '*', member, alias)};
# a call may name the member by its alias (EC2's Filters, the name boto3 documents for the model's Filter).
_ALIASES = {
    'ec2': ('*', 'Filter', 'Filters'),
    'logs': ('CreateExportTask', 'from', 'fromTime'),
    'cloudsearchdomain': ('Search', 'return', 'returnFields'),
}

_PROTOCOLS = ('json', 'query', 'rest-json', 'ec2', 'rest-xml')


class _Route53Ids:
    """botocore's fix_route53_ids (before-parameter-build.route53): an id member given as a path (``/hostedzone/Z1``,
    what another call answered) is sent as its last part."""

    def _request(self, input_shape, params):
        params = super()._request(input_shape, params)
        for member in self.MODEL.SHAPES[input_shape][2]:
            if member[1] in ('ResourceId', 'DelegationSetId', 'ChangeId') and member[0] in params:
                params[member[0]] = params[member[0]].split('/')[-1]
        return params


class _IamPolicyDocuments:
    """botocore's json_decode_policies (after-call.iam): a policy document in an answer (IAM's policyDocumentType, a
    URL-encoded JSON text) becomes the document as a dict; a text that is not JSON stays as it is."""

    def _response(self, output_shape, parsed):
        parsed = super()._response(output_shape, parsed)
        if output_shape is not None:
            _decode_policies(self.MODEL.SHAPES, output_shape, parsed)
        return parsed


def _decode_policies(shapes, name, parsed):
    shape = shapes[name]
    if shape[0] == 'structure':
        for member in shape[2]:
            if member[0] not in parsed:
                continue
            if member[1] == 'policyDocumentType' and shapes[member[1]][0] == 'string':
                try:
                    from urllib.parse import unquote
                    parsed[member[0]] = json.loads(unquote(parsed[member[0]]))
                except (ValueError, TypeError):
                    pass
            else:
                _decode_policies(shapes, member[1], parsed[member[0]])
    elif shape[0] == 'list':
        for item in parsed:
            _decode_policies(shapes, shape[1], item)


class _ApiGatewayAccept:
    """botocore's add_accept_header (before-call.apigateway): Accept: application/json unless the call set one."""

    def _encode(self, operation, input_shape, params):
        method, path, headers, body = super()._encode(operation, input_shape, params)
        if headers.get('Accept') is None:
            headers['Accept'] = 'application/json'
        return method, path, headers, body


class _GlacierDefaults:
    """botocore's inject_account_id (before-parameter-build.glacier: the account '-', the caller's, unless given),
    add_glacier_version (before-call.glacier: the API version in x-amz-glacier-version) and add_glacier_checksums
    (before-call of UploadArchive and UploadMultipartPart: the body's SHA-256 and SHA-256 tree hash, unless given)."""

    def _request(self, input_shape, params):
        params = super()._request(input_shape, params)
        if params.get('accountId') is None:
            params['accountId'] = '-'
        return params

    def _encode(self, operation, input_shape, params):
        method, path, headers, body = super()._encode(operation, input_shape, params)
        if operation in ('UploadArchive', 'UploadMultipartPart'):
            import hashlib
            headers.setdefault('x-amz-content-sha256', hashlib.sha256(body).hexdigest())
            headers.setdefault('x-amz-sha256-tree-hash', _tree_hash(body))
        headers['x-amz-glacier-version'] = self.MODEL.API_VERSION
        return method, path, headers, body


def _tree_hash(body):
    """Glacier's SHA-256 tree hash of a body: the hashes of its 1 MiB chunks, hashed in pairs up to one (hex)."""
    import hashlib
    level = [hashlib.sha256(body[at:at + (1 << 20)]).digest() for at in range(0, len(body), 1 << 20)]
    if not level:
        return hashlib.sha256(b'').hexdigest()
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0].hex()


class _CloudSearchSearchAsPost:
    """botocore's change_get_to_post (request-created.cloudsearchdomain.Search): a search, a GET with its query, is sent
    as a POST of that query as a form (a long query does not fit in a URL)."""

    def _encode(self, operation, input_shape, params):
        method, path, headers, body = super()._encode(operation, input_shape, params)
        if operation == 'Search' and method == 'GET' and '?' in path:
            path, query = path.split('?', 1)
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
            return 'POST', path, headers, query.encode('utf-8')
        return method, path, headers, body


def _base64_user_data(params):
    """botocore's base64_encode_user_data (before-parameter-build, so before the parameters are checked): UserData,
    text or bytes, sent base64-encoded."""
    if 'UserData' in params:
        import base64
        if isinstance(params['UserData'], str):
            params['UserData'] = params['UserData'].encode('utf-8')
        params['UserData'] = base64.b64encode(params['UserData']).decode('utf-8')


class _AutoScalingUserData:
    """botocore's base64_encode_user_data for Auto Scaling's CreateLaunchConfiguration."""

    def _call(self, operation, params):
        if operation == 'CreateLaunchConfiguration':
            _base64_user_data(params)
        return super()._call(operation, params)


class _Ec2UserDataAndConsoleOutput:
    """botocore's base64_encode_user_data for RunInstances, and decode_console_output (after-call.ec2.GetConsoleOutput):
    the console output, base64 in the answer, decoded as UTF-8 (undecodable bytes replaced; left as it came when it is
    not base64)."""

    def _call(self, operation, params):
        if operation == 'RunInstances':
            _base64_user_data(params)
        parsed = super()._call(operation, params)
        if operation == 'GetConsoleOutput' and 'Output' in parsed:
            import base64
            try:
                parsed['Output'] = base64.b64decode(bytes(parsed['Output'], 'latin-1')).decode('utf-8', 'replace')
            except (ValueError, TypeError, AttributeError):
                pass
        return parsed


class _CloudFormationTemplateBody:
    """botocore's json_decode_template_body (after-call.cloudformation.GetTemplate): a JSON template body becomes an
    OrderedDict (a YAML one stays text)."""

    def _call(self, operation, params):
        parsed = super()._call(operation, params)
        if operation == 'GetTemplate' and 'TemplateBody' in parsed:
            from collections import OrderedDict
            try:
                parsed['TemplateBody'] = json.loads(parsed['TemplateBody'], object_pairs_hook=OrderedDict)
            except (ValueError, TypeError):
                pass
        return parsed


class _CrossRegionPresignedUrl:
    """botocore's inject_presigned_url_ec2 and inject_presigned_url_rds (before-call): a copy from another region
    carries a URL presigned in the source region for the same call with DestinationRegion added (the destination's
    service reads the source with it), signed by the backend (botocore/_nexus_presign.py) for the source region. EC2's
    CopySnapshot, unless PresignedUrl is given, also sends DestinationRegion (the client's region); RDS's, Neptune's
    and DocumentDB's copies only when SourceRegion is given, which is not sent, unless PreSignedUrl is."""

    _OPERATIONS = {
        'ec2': frozenset(('CopySnapshot',)),
        'rds': frozenset(('CopyDBClusterSnapshot', 'CreateDBCluster', 'CopyDBSnapshot', 'CreateDBInstanceReadReplica',
                          'StartDBInstanceAutomatedBackupsReplication')),
        'neptune': frozenset(('CopyDBClusterSnapshot', 'CreateDBCluster')),
        'docdb': frozenset(('CopyDBClusterSnapshot', 'CreateDBCluster')),
    }

    def _sent_pairs(self, operation, pairs):
        pairs = super()._sent_pairs(operation, pairs)
        if operation not in self._OPERATIONS[self.SERVICE]:
            return pairs
        form = dict(pairs)   # a query form's names are unique (list members are numbered)
        destination = self.meta.region_name
        if self.SERVICE == 'ec2':
            if 'PresignedUrl' in form:
                return pairs
            form['PresignedUrl'] = self._presigned(operation, {**form, 'DestinationRegion': destination},
                                                   form.get('SourceRegion'))
            form['DestinationRegion'] = destination
        else:
            if 'SourceRegion' not in form:
                return pairs
            source = form.pop('SourceRegion')
            if 'PreSignedUrl' not in form:
                form['PreSignedUrl'] = self._presigned(operation, {**form, 'DestinationRegion': destination}, source)
        return list(form.items())

    def _presigned(self, operation, form, source_region):
        """The call as a GET of its form in the query, presigned by the backend for the source region."""
        from urllib.parse import quote
        from botocore._nexus_presign import signed_by_backend
        query = '&'.join(f"{quote(str(k), safe='-_.~')}={quote(str(v), safe='-_.~')}" for k, v in form.items())
        wire = {'Service': self.SERVICE, 'Operation': operation, 'Method': 'GET', 'Path': '/?' + query, 'Headers': {}}
        return signed_by_backend({'Operation': 'ServiceRequest', 'Request': wire, 'ExpiresIn': 3600,
                                  'Region': source_region})


class _RdsAuthTokens:
    """botocore's generate_db_auth_token (creating-client-class.rds): an IAM authentication token for a database user,
    signed by the backend (the sandbox holds no credentials) for the client's region unless Region is given."""

    def generate_db_auth_token(self, DBHostname, Port, DBUsername, Region=None):
        from botocore._nexus_presign import db_auth_token
        return db_auth_token(DBHostname, int(str(Port)), DBUsername, Region or self.meta.region_name)


# What botocore's handlers do to a whole service's calls, as mixins of its model-read client class.
_HANDLERS = {'route53': (_Route53Ids,), 'iam': (_IamPolicyDocuments,), 'apigateway': (_ApiGatewayAccept,),
             'glacier': (_GlacierDefaults,), 'rds': (_RdsAuthTokens, _CrossRegionPresignedUrl),
             'neptune': (_CrossRegionPresignedUrl,), 'docdb': (_CrossRegionPresignedUrl,),
             'ec2': (_Ec2UserDataAndConsoleOutput, _CrossRegionPresignedUrl), 'autoscaling': (_AutoScalingUserData,),
             'cloudformation': (_CloudFormationTemplateBody,), 'cloudsearchdomain': (_CloudSearchSearchAsPost,)}
_classes = {}
_lock = _thread.allocate_lock()


def model_client_class(service_name, api_version=None):
    """The model-read client class of a service, or None when the real botocore must make the client (no model here,
    another API version asked for, an XML protocol, a service botocore customizes throughout, AWS_DATA_PATH set)."""
    key = (service_name, api_version)
    if key not in _classes:
        with _lock:   # one class per service, whichever thread makes its first client
            if key not in _classes:
                client_class = _classes[key] = _build(service_name, api_version)
                generic = sys.modules.get('botocore._nexus_generic')
                if client_class is not None and generic is not None:
                    generic.share_exceptions(service_name, client_class.exceptions_of_service())
    return _classes[key]


def built_classes():
    """(service, class) of every model-read client class made so far."""
    return [(service, cls) for (service, _), cls in _classes.items() if cls is not None]


def _build(service_name, api_version):
    if _CUSTOMIZED.get(service_name, ()) is None or os.environ.get('AWS_DATA_PATH'):
        return None
    data = data_folder()
    folder = os.path.join(data, service_name) if data else None
    if folder is None or not re.fullmatch(r'[a-z0-9-]+', service_name) or not os.path.isdir(folder):
        return None
    version = sorted(os.listdir(folder))[-1]
    if api_version is not None and api_version != version:
        return None
    model = reader.read_model_file(os.path.join(folder, version), 'service-2')
    metadata = model['metadata']
    protocol = metadata['protocol']
    if protocol not in _PROTOCOLS:
        return None
    shapes = model['shapes']
    operations, http, generic_when, retryable, roots = {}, {}, {}, {}, []
    customized = _CUSTOMIZED.get(service_name, frozenset())
    for name, op in model['operations'].items():
        if name in customized or _refused(name, op, shapes, metadata):
            continue
        operations[name] = reader.operation_entry(op, shapes)
        http[name] = (op['http']['method'], op['http']['requestUri'])
        if 'input' in op:
            roots.append(op['input']['shape'])
        if op.get('output'):
            roots.append(op['output']['shape'])
        steered = reader.steering_members(op, shapes)
        if steered:
            generic_when[name] = steered
        modeled = reader.retryable_errors(op, shapes)
        if modeled:
            retryable[name] = modeled
    errors, codes = reader.errors_of(shapes)
    compacted = reader.reachable(shapes, roots + errors, protocol, {reader.NO_INPUT: reader.NO_INPUT_SHAPE})
    aliases = {}
    if service_name in _ALIASES:
        scope, member, alias = _ALIASES[service_name]
        aliases = {name: ((member, alias),) for name in operations
                   if scope in ('*', name) and 'input' in model['operations'][name]
                   and member in shapes[model['operations'][name]['input']['shape']]['members']}
    slice_ = _ModelSlice(
        SERVICE=service_name, PROTOCOL=protocol, TARGET_PREFIX=metadata.get('targetPrefix'),
        JSON_VERSION=metadata.get('jsonVersion'), API_VERSION=metadata['apiVersion'],
        ENDPOINT_PREFIX=metadata['endpointPrefix'], METADATA=metadata, OPERATIONS=operations, HTTP=http, GENERIC_WHEN=generic_when, RETRYABLE=retryable,
        METHODS={xform_name(name): name for name in operations},
        ERRORS=tuple(errors), ERROR_CODES=codes, SHAPES=compacted, ALIASES=aliases,
        EC2_NAMES=reader.ec2_names(shapes, compacted) if protocol == 'ec2' else {})
    if protocol == 'rest-xml':
        slice_.XML_TRAITS, slice_.XML_ROOTS = reader.xml_traits(shapes, compacted, model['operations'])
    from botocore._nexus_json import JsonClient, serve_operations
    from botocore._nexus_query import Ec2Client, QueryClient
    from botocore._nexus_rest import RestJsonClient
    from botocore._nexus_rest_xml import RestXmlClient
    base = {'json': JsonClient, 'query': QueryClient, 'rest-json': RestJsonClient, 'ec2': Ec2Client,
            'rest-xml': RestXmlClient}[protocol]
    paginators, pageable = _paginators(os.path.join(folder, version), shapes, model['operations'], operations)
    attributes = {'SERVICE': service_name, 'MODEL': slice_, 'PAGINATORS': paginators, 'PAGEABLE': pageable,
                  'READS_ENDPOINTS': True,
                  '__doc__': f"{metadata.get('serviceFullName', service_name)}: its model's calls over the Nexus "
                             'channel (model-read client).'}
    attributes.update(_legacy_retries(data, service_name))
    bases = (*_HANDLERS.get(service_name, ()), base)
    return serve_operations(type(_class_name(metadata, service_name), bases, attributes))


_MEMBER = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_PATH = re.compile(r'[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*')


def _paginators(folder, shapes, model_operations, served):
    """({method: PagingModel} of the served operations' paginators, the method names of every operation botocore can
    paginate). Result keys, non-aggregate keys and the more-results flag must be member paths, input tokens members;
    an output token that is another JMESPath expression needs the jmespath package (else the real botocore's)."""
    import importlib.util
    from botocore.paginate import PagingModel, output_token
    configs = (reader.read_model_file(folder, 'paginators-1') or {}).get('pagination', {})
    has_jmespath = importlib.util.find_spec('jmespath') is not None
    paginators = {}
    for operation, config in configs.items():
        keys = _listed(config.get('result_key'))
        inputs, outputs = _listed(config.get('input_token')), _listed(config.get('output_token'))
        paths = [*keys, *config.get('non_aggregate_keys', ()), config.get('more_results') or 'none']
        if operation not in served or not keys or not inputs or len(inputs) != len(outputs) or \
                not all(isinstance(n, str) and _MEMBER.fullmatch(n) for n in inputs) or \
                not all(isinstance(p, str) and _PATH.fullmatch(p) for p in paths) or \
                not (has_jmespath or all(_PATH.fullmatch(o) for o in outputs)):
            continue
        limit = config.get('limit_key')
        input_members = shapes[model_operations[operation]['input']['shape']]['members']
        limit_is_text = limit is not None and shapes[input_members[limit]['shape']]['type'] == 'string'
        paginators[xform_name(operation)] = PagingModel(
            tuple(inputs), tuple(output_token(o) for o in outputs), limit, tuple(keys), config.get('more_results'),
            tuple(config.get('non_aggregate_keys', ())), limit_is_text)
    return paginators, frozenset(xform_name(operation) for operation in configs)


def _listed(value):
    """A paginators-1.json entry that is one name or a list of them, as a list."""
    return [value] if isinstance(value, str) else list(value or ())


def _refused(name, op, shapes, metadata):
    """Whether an operation is left to the real botocore (see the module's docstring)."""
    if reader.operation_refusal(name, op, shapes, serves_no_input=True):
        return True
    # Operations botocore sends unsigned ('none': Cognito's sign-up and sign-in, STS's web identity) are served: every
    # call goes unsigned over the channel, and the backend signs it, whichever client made it.
    if op.get('authtype', metadata.get('signatureVersion', 'v4')) not in ('v4', 's3v4', 'none'):
        return True
    output = op.get('output')
    return output is not None and any(shapes[ref['shape']].get('eventstream')
                                      for ref in shapes[output['shape']].get('members', {}).values())


def _class_name(metadata, service_name):
    """botocore's get_service_module_name: the client class's name (type(client).__name__)."""
    name = metadata.get('serviceAbbreviation', metadata.get('serviceFullName', service_name))
    return re.sub(r'\W+', '', name.replace('Amazon', '').replace('AWS', ''))


def _legacy_retries(data, service_name):
    """The service's legacy retry policy in botocore's _retry.json: attempts, backoff base, extra (code, status)."""
    with open(os.path.join(data, '_retry.json')) as f:
        policy = json.load(f)['retry'].get(service_name, {}).get('__default__', {})
    out = {}
    if 'max_attempts' in policy:
        out['LEGACY_ATTEMPTS'] = policy['max_attempts']
    base = policy.get('delay', {}).get('base')
    if isinstance(base, (int, float)):
        out['LEGACY_BASE'] = base
    codes = []
    for rule in policy.get('policies', {}).values():
        response = rule.get('applies_when', {}).get('response', {})
        if 'service_error_code' in response and 'http_status_code' in response:
            codes.append((response['service_error_code'], response['http_status_code']))
    if codes:
        out['LEGACY_CODES'] = frozenset(codes)
    return out


class _ModelSlice:
    """A model slice built in memory: the attributes of a _nexus_*_model module."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)
