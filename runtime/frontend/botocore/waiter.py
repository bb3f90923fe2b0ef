# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Waiters as botocore 1.29 runs them, from a waiter's configuration in its service's waiters-2.json: the operation
called every ``delay`` seconds (WaiterConfig's Delay) at most ``maxAttempts`` times (its MaxAttempts), an error answer
looked at rather than raised, the first acceptor that matches deciding (success, failure, retry), an unmatched error
ending the wait, and botocore's WaiterError reasons word for word. Path matchers are JMESPath expressions (the jmespath
package, loaded on the first path matcher; not the SDK).

S3's object waiters are the S3 client's (their configurations below); the model-driven clients read theirs from their
services' waiters-2.json (_nexus_json.ModelClient.get_waiter).
"""

import time

from botocore.exceptions import ClientError, WaiterError

# S3's waiters-2.json: the two the stand-in's S3 client serves.
S3_WAITERS = {
    'ObjectExists': {'delay': 5, 'operation': 'HeadObject', 'maxAttempts': 20, 'acceptors': [
        {'expected': 200, 'matcher': 'status', 'state': 'success'},
        {'expected': 404, 'matcher': 'status', 'state': 'retry'}]},
    'ObjectNotExists': {'delay': 5, 'operation': 'HeadObject', 'maxAttempts': 20, 'acceptors': [
        {'expected': 404, 'matcher': 'status', 'state': 'success'}]},
}


def waiter_class(client_class_name, waiter_name):
    """The waiter's class as botocore names it ('<client class>.Waiter.<waiter>')."""
    return type(f'{client_class_name}.Waiter.{waiter_name}', (Waiter,), {})


class SingleWaiterConfig:
    """waiter.config as botocore gives it: the waiter's operation, delay, max_attempts and acceptors."""

    def __init__(self, config):
        self._config = config
        self.description = config.get('description', '')
        self.operation = config['operation']
        self.delay = config['delay']
        self.max_attempts = config['maxAttempts']

    @property
    def acceptors(self):
        return [AcceptorConfig(acceptor) for acceptor in self._config['acceptors']]


class AcceptorConfig:
    """One acceptor of a waiter's configuration: the state it leads to when its matcher finds the expected value."""

    def __init__(self, config):
        self.state = config['state']
        self.matcher = config['matcher']
        self.expected = config['expected']
        self.argument = config.get('argument')

    @property
    def explanation(self):
        """botocore's words for what the acceptor matched."""
        matcher, expected, argument = self.matcher, self.expected, self.argument
        if matcher == 'path':
            return f'For expression "{argument}" we matched expected path: "{expected}"'
        if matcher == 'pathAll':
            return f'For expression "{argument}" all members matched excepted path: "{expected}"'
        if matcher == 'pathAny':
            return f'For expression "{argument}" we matched expected path: "{expected}" at least once'
        if matcher == 'status':
            return f'Matched expected HTTP status code: {expected}'
        if matcher == 'error':
            return f'Matched expected service error code: {expected}'
        return f'No explanation for unknown waiter type: "{matcher}"'


class Waiter:
    def __init__(self, name, config, operation_method):
        self.name = name
        self.config = SingleWaiterConfig(config)
        self._operation_method = operation_method

    def wait(self, **kwargs):
        options = kwargs.pop('WaiterConfig', {})
        delay = options.get('Delay', self.config.delay)
        max_attempts = options.get('MaxAttempts', self.config.max_attempts)
        acceptors = self.config.acceptors
        attempts = 0
        matched = None
        state = 'waiting'
        while True:
            try:
                response = self._operation_method(**kwargs)
            except ClientError as e:
                # botocore's waiters look at the error answer instead of raising it.
                response = e.response
            attempts += 1
            acceptor = None
            for acceptor in acceptors:
                if _matches(acceptor, response):
                    matched, state = acceptor, acceptor.state
                    break
            else:
                if _is_error(response):
                    error = response['Error']
                    raise WaiterError(name=self.name, last_response=response,
                                      reason=f"An error occurred ({error.get('Code', 'Unknown')}): "
                                             f"{error.get('Message', 'Unknown')}")
            if state == 'success':
                return
            if state == 'failure':
                raise WaiterError(name=self.name, last_response=response,
                                  reason=f'Waiter encountered a terminal failure state: {acceptor.explanation}')
            if attempts >= max_attempts:
                # botocore names the acceptor its loop stopped at: the one matched this time, else the last one.
                reason = 'Max attempts exceeded' if matched is None else \
                    f'Max attempts exceeded. Previously accepted state: {acceptor.explanation}'
                raise WaiterError(name=self.name, reason=reason, last_response=response)
            time.sleep(delay)


def _is_error(response):
    error = response.get('Error')
    return isinstance(error, dict) and 'Code' in error


def _matches(acceptor, response):
    matcher, expected = acceptor.matcher, acceptor.expected
    if matcher == 'status':
        return response.get('ResponseMetadata', {}).get('HTTPStatusCode') == expected
    if matcher == 'error':
        return response.get('Error', {}).get('Code', '') == expected
    if _is_error(response):
        return False
    import jmespath
    result = jmespath.search(acceptor.argument, response)
    if matcher == 'path':
        return result == expected
    if not isinstance(result, list) or not result:
        return False
    if matcher == 'pathAll':
        return all(element == expected for element in result)
    return any(element == expected for element in result)   # pathAny
