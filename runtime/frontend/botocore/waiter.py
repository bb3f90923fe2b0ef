# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The S3 object waiters (object_exists, object_not_exists), polling head_object as botocore does.

Config from botocore's S3 waiters-2.json: HeadObject every 5 s, at most 20
attempts; ObjectExists succeeds on 200 and retries on 404, ObjectNotExists
succeeds on 404. Any other error ends the wait with botocore's WaiterError.
"""

import time

from botocore.exceptions import ClientError, WaiterError

# waiter name -> (status that succeeds, status that retries or None)
_WAITERS = {
    'ObjectExists': (200, 404),
    'ObjectNotExists': (404, None),
}


class Waiter:
    def __init__(self, name, operation_method):
        self.name = name
        self._operation_method = operation_method

    def wait(self, **kwargs):
        config = kwargs.pop('WaiterConfig', {})
        delay = config.get('Delay', 5)
        max_attempts = config.get('MaxAttempts', 20)
        success, retry = _WAITERS[self.name]
        attempts = 0
        matched_retry = False
        while True:
            try:
                response = self._operation_method(**kwargs)
            except ClientError as e:
                # botocore's waiters look at the error response instead of raising it.
                response = e.response
            attempts += 1
            status = response.get('ResponseMetadata', {}).get('HTTPStatusCode')
            if status == success:
                return
            if status == retry:
                matched_retry = True
            elif 'Error' in response:
                error = response['Error']
                raise WaiterError(name=self.name, last_response=response,
                                  reason=f"An error occurred ({error.get('Code', 'Unknown')}): "
                                         f"{error.get('Message', 'Unknown')}")
            if attempts >= max_attempts:
                reason = 'Max attempts exceeded'
                if matched_retry:
                    reason += f'. Previously accepted state: Matched expected HTTP status code: {retry}'
                raise WaiterError(name=self.name, reason=reason, last_response=response)
            time.sleep(delay)
