# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: imports handler code makes at module level."""

from botocore.config import Config

from difftest_common import case


@case
def common_imports(s3):
    from botocore.client import Config as ClientConfig
    from boto3.dynamodb.conditions import Attr, Key
    condition = Key('pk').eq('a') & Attr('n').gt(1)
    return {'config_is_botocore_config': ClientConfig is Config,
            'condition': type(condition).__name__,
            'operands': [type(v).__name__ for v in condition.get_expression()['values']],
            'retries': ClientConfig(retries={'max_attempts': 3}).retries}
