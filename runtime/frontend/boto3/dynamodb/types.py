# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.dynamodb.types: the real module's names (TypeSerializer, TypeDeserializer, Binary, ...).

Loaded through the generic path (botocore/_nexus_generic.py), so the classes a handler imports are the very ones the
real DynamoDB layer uses (its serializer checks ``isinstance(value, Binary)``). Importing this loads the real SDK.
"""

from botocore import _nexus_generic

globals().update({name: value for name, value in vars(_nexus_generic.real_module('boto3.dynamodb.types')).items()
                  if not name.startswith('__')})
