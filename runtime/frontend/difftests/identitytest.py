# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's KMS and STS clients: the same calls by real boto3 (baseline, through the node's
signing proxy) and by the stand-in (nexus, over the channel, without the real botocore), against one scripted endpoint
(tests/Nexus.Frontend.Tests, IdentityStandInTests) that answers each key or role with one kind of answer: JSON for
KMS, XML for STS. The record names the modules loaded after the stand-in's calls, and ends with what the endpoint
received.

  python3 identitytest.py run

Environment: IDENTITYTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import base64
import json
import sys

from difftest_common import case_list, caught, print_suite, scripted_client

ROLE = 'arn:aws:iam::000000000000:role/reader'


def client(service, **retries):
    return scripted_client(service, 'IDENTITYTEST_ENDPOINT', **retries)


CASES, case = case_list()
GENERIC_CASES, generic = case_list()


@case
def decrypt_environment_variable(kms, sts):
    """The Lambda console's snippet: an encrypted variable, base64 in the environment, its function as context."""
    blob = base64.b64decode(base64.b64encode(b'\x01\x02ciphertext'))
    return kms.decrypt(CiphertextBlob=blob, EncryptionContext={'LambdaFunctionName': 'identitytest'})


@case
def encrypt_text(kms, sts):
    return kms.encrypt(KeyId='alias/app', Plaintext='secret text', EncryptionAlgorithm='SYMMETRIC_DEFAULT')


@case
def generate_data_key(kms, sts):
    return kms.generate_data_key(KeyId='alias/app', KeySpec='AES_256', EncryptionContext={'purpose': 'files'},
                                 GrantTokens=['g-1'])


@case
def generate_data_key_without_plaintext(kms, sts):
    return kms.generate_data_key_without_plaintext(KeyId='alias/app', NumberOfBytes=32)


@case
def generate_random(kms, sts):
    return kms.generate_random(NumberOfBytes=8)


@case
def sign_and_verify(kms, sts):
    signed = kms.sign(KeyId='alias/signer', Message=b'order 42', MessageType='RAW',
                      SigningAlgorithm='ECDSA_SHA_256')
    checked = kms.verify(KeyId='alias/signer', Message=b'order 42', Signature=signed['Signature'],
                         SigningAlgorithm='ECDSA_SHA_256')
    return [signed, checked]


@case
def invalid_ciphertext_is_modeled(kms, sts):
    try:
        kms.decrypt(CiphertextBlob=b'garbage')
    except kms.exceptions.InvalidCiphertextException as e:
        return caught(e, 'InvalidCiphertextException')


@case
def disabled_key_is_modeled(kms, sts):
    try:
        kms.encrypt(KeyId='alias/disabled', Plaintext=b'x')
    except kms.exceptions.DisabledException as e:
        return caught(e, 'DisabledException')


@case
def kms_throttling_is_retried(kms, sts):
    return client('kms', max_attempts=1).generate_random(NumberOfBytes=1024)


@case
def kms_internal_failure_without_retries(kms, sts):
    return kms.encrypt(KeyId='alias/broken', Plaintext=b'x')


@case
def kms_parameters_checked(kms, sts):
    return kms.decrypt(CiphertextBlob=42, EncryptionContext={'a': 1}, Bogus=True)


@case
def re_encrypt_outside_the_grants(kms, sts):
    return kms.re_encrypt(CiphertextBlob=b'blob', DestinationKeyId='alias/other')


@case
def get_caller_identity(kms, sts):
    return sts.get_caller_identity()


@case
def assume_role(kms, sts):
    return sts.assume_role(RoleArn=ROLE, RoleSessionName='run-1', DurationSeconds=900,
                           Tags=[{'Key': 'team', 'Value': 'a'}], TransitiveTagKeys=['team'],
                           PolicyArns=[{'arn': 'arn:aws:iam::aws:policy/ReadOnlyAccess'}], ExternalId='ext')


@case
def malformed_policy_is_modeled(kms, sts):
    try:
        sts.assume_role(RoleArn=ROLE, RoleSessionName='bad-policy', Policy='{')
    except sts.exceptions.MalformedPolicyDocumentException as e:
        return caught(e, 'MalformedPolicyDocumentException')


@case
def assume_role_denied(kms, sts):
    return sts.assume_role(RoleArn='arn:aws:iam::000000000000:role/forbidden', RoleSessionName='s')


@case
def idp_unreachable_is_retried(kms, sts):
    """STS's own legacy retry policy: IDPCommunicationError with a 400."""
    return client('sts', max_attempts=1).assume_role(RoleArn=ROLE, RoleSessionName='idp-down')


@case
def idp_unreachable_is_retried_in_standard_mode(kms, sts):
    """Standard mode's special checker for STS retries it too."""
    standard = client('sts', mode='standard', total_max_attempts=2)
    return standard.assume_role(RoleArn=ROLE, RoleSessionName='idp-down')


@case
def sts_parameters_checked(kms, sts):
    return sts.assume_role(RoleArn=ROLE, DurationSeconds=60)


@case
def client_shapes(kms, sts):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'service': c.meta.service_model.service_name} for c in (kms, sts)]


@generic
def endpoint_requests(kms, sts):
    """What the endpoint received, in order (its own record, read back as random bytes)."""
    return json.loads(kms.generate_random(NumberOfBytes=1, CustomKeyStoreId='received')['Plaintext'])


def main(argv):
    print_suite(CASES, GENERIC_CASES, client('kms'), client('sts'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
