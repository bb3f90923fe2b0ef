# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""lambda-echo: answers with the event it got."""


def handler(event, context):
    return {"echo": event}
