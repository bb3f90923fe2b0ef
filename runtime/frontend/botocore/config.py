# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.config.Config: accepted with botocore's option names; network options have no effect in nexus mode."""

_OPTION_DEFAULTS = (
    ('region_name', None),
    ('signature_version', None),
    ('user_agent', None),
    ('user_agent_extra', None),
    ('connect_timeout', 60),
    ('read_timeout', 60),
    ('parameter_validation', True),
    ('max_pool_connections', 10),
    ('proxies', None),
    ('proxies_config', None),
    ('s3', None),
    ('retries', None),
    ('client_cert', None),
    ('inject_host_prefix', True),
    ('endpoint_discovery_enabled', None),
    ('use_dualstack_endpoint', None),
    ('use_fips_endpoint', None),
    ('defaults_mode', None),
    ('tcp_keepalive', None),
)


class Config:
    OPTION_DEFAULTS = dict(_OPTION_DEFAULTS)

    def __init__(self, *args, **kwargs):
        names = [name for name, _ in _OPTION_DEFAULTS]
        if len(args) > len(names):
            raise TypeError(f'Takes at most {len(names)} arguments ({len(args)} given)')
        provided = dict(zip(names, args))
        for key, value in kwargs.items():
            if key not in self.OPTION_DEFAULTS:
                raise TypeError(f"Got unexpected keyword argument '{key}'")
            if key in provided:
                raise TypeError(f"Got multiple values for keyword argument '{key}'")
            provided[key] = value
        self._user_provided_options = provided
        values = dict(_OPTION_DEFAULTS)
        values.update(provided)
        for key, value in values.items():
            setattr(self, key, value)

    def merge(self, other_config):
        merged = dict(self._user_provided_options)
        merged.update(other_config._user_provided_options)
        return Config(**merged)
