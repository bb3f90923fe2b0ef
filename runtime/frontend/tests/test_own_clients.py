# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's own clients against Debian's real botocore, side by side in two processes (own_client_probe.py): a
timestamp parameter in every form botocore takes or refuses is sent as botocore sends it (JSON: epoch seconds; query:
ISO 8601, with microseconds when there are some) or refused with its message, and every own client names the
endpoint botocore 1.29 names in each partition (STS's global endpoint for its legacy regions, unless
AWS_STS_REGIONAL_ENDPOINTS=regional), a paginator's resume token (bytes in a key too) is botocore's, and standard
mode's retry quota is spent and refilled as botocore's (a real HTTP service that is down, for the real one). A local zone other than UTC, so an epoch read in the wrong zone shows."""

import base64
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, 'own_client_probe.py')


def probe(mode):
    env = {k: v for k, v in os.environ.items() if k not in ('AWS_STS_REGIONAL_ENDPOINTS', 'PYTHONPATH')}
    env['TZ'] = 'America/New_York'
    run = subprocess.run(['/usr/bin/python3', PROBE, mode], env=env, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise AssertionError(f'own_client_probe.py {mode} failed:\n{run.stderr}')
    return json.loads(run.stdout)


@unittest.skipUnless(os.path.isdir('/usr/lib/python3/dist-packages/botocore/data/events'),
                     "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
class OwnClientsAgainstTheRealBotocoreTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.real, cls.standin = probe('real'), probe('standin')

    def test_timestamps_are_sent_or_refused_as_botocore_does(self):
        sent = [outcome for _, _, outcome in self.real['timestamps'] if 'Validation' not in outcome]
        refused = [outcome for _, _, outcome in self.real['timestamps'] if 'ParamValidationError' in outcome]
        # Both kinds, in both protocols, or equality proves little.
        self.assertGreaterEqual(len(sent), 30)
        self.assertGreaterEqual(len(refused), 10)
        for real, standin in zip(self.real['timestamps'], self.standin['timestamps']):
            self.assertEqual(real, standin)
        self.assertEqual(len(self.real['timestamps']), len(self.standin['timestamps']))

    def test_resume_tokens_are_encoded_and_decoded_as_botocore_does(self):
        self.assertEqual(4, len(self.real['tokens']))
        # The binary key's token names its encoded bytes, or the bytes path was not taken.
        self.assertIn(b'boto_encoded_keys', base64.b64decode(self.real['tokens'][1][0]))
        self.assertEqual(self.real['tokens'], self.standin['tokens'])

    def test_standard_mode_spends_and_refills_the_retry_quota_as_botocore_does(self):
        record = self.real['retry_quota']
        # 50 failing calls retried twice each spend the 500 units; the 51st is not retried and says why.
        self.assertEqual(['down', 'ServiceException', 3, 2, True, None], record[49])
        self.assertEqual(['down', 'ServiceException', 1, 0, None, True], record[50])
        self.assertEqual(record, self.standin['retry_quota'])

    def test_endpoints_are_the_ones_botocore_names(self):
        self.assertEqual('https://sts.amazonaws.com', self.real['endpoints']['legacy sts us-east-1'])
        self.assertEqual('https://sts.us-east-1.amazonaws.com', self.real['endpoints']['regional sts us-east-1'])
        self.assertEqual(self.real['endpoints'], self.standin['endpoints'])


class EndpointChoosingMembersTests(unittest.TestCase):
    """A member that chooses botocore's endpoint (the model's contextParam, EventBridge's EndpointId: a global endpoint
    signed with SigV4a) sends the call through the real botocore, which does what it does with it; the stand-in would
    send it to the regional endpoint."""

    def test_put_events_with_an_endpoint_id_is_the_real_botocores(self):
        sys.path.insert(0, os.path.dirname(HERE))
        import boto3
        import botocore.client
        from unittest import mock

        class Channel:
            def call(self, op, params, body=None, timeout=None):
                raise AssertionError('the stand-in sent a call the real botocore should make')

        botocore.client._set_transport(Channel())
        try:
            events = boto3.client('events', region_name='us-east-1')
            real = mock.Mock()
            real.put_events.return_value = {'FailedEntryCount': 0}
            with mock.patch.object(type(events), '_generic', return_value=real):
                entries = [{'Source': 's', 'DetailType': 'd', 'Detail': '{}'}]
                self.assertEqual({'FailedEntryCount': 0}, events.put_events(Entries=entries, EndpointId='abcde.veo'))
            real.put_events.assert_called_once_with(Entries=entries, EndpointId='abcde.veo')
        finally:
            botocore.client._set_transport(None)


if __name__ == '__main__':
    unittest.main()
