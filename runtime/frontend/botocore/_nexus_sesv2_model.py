# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the sesv2 model (2019-09-27, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py sesv2 SendEmail,SendBulkEmail
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'sesv2'
PROTOCOL = 'rest-json'
TARGET_PREFIX = None
JSON_VERSION = '1.1'
API_VERSION = '2019-09-27'
ENDPOINT_PREFIX = 'email'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2019-09-27', 'endpointPrefix': 'email', 'jsonVersion': '1.1', 'protocol': 'rest-json', 'serviceAbbreviation': 'Amazon SES V2', 'serviceFullName': 'Amazon Simple Email Service', 'serviceId': 'SESv2', 'signatureVersion': 'v4', 'signingName': 'ses', 'uid': 'sesv2-2019-09-27'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'SendEmail': ('SendEmailRequest', 'SendEmailResponse', (), None),
    'SendBulkEmail': ('SendBulkEmailRequest', 'SendBulkEmailResponse', (), None),
}

# Operation -> (HTTP method, request URI template).
HTTP = {
    'SendEmail': ('POST', '/v2/email/outbound-emails'),
    'SendBulkEmail': ('POST', '/v2/email/outbound-bulk-emails'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'AccountSuspendedException',
    'AlreadyExistsException',
    'BadRequestException',
    'ConcurrentModificationException',
    'ConflictException',
    'InternalServiceErrorException',
    'InvalidNextTokenException',
    'LimitExceededException',
    'MailFromDomainNotVerifiedException',
    'MessageRejected',
    'NotFoundException',
    'SendingPausedException',
    'TooManyRequestsException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'AccountSuspendedException': ('structure', (), ()),
    'AlreadyExistsException': ('structure', (), ()),
    'AmazonResourceName': ('string', None),
    'BadRequestException': ('structure', (), ()),
    'Body': ('structure', (), (('Text', 'Content'), ('Html', 'Content'))),
    'BulkEmailContent': ('structure', (), (('Template', 'Template'),)),
    'BulkEmailEntry': ('structure', ('Destination',), (('Destination', 'Destination'), ('ReplacementTags', 'MessageTagList'), ('ReplacementEmailContent', 'ReplacementEmailContent'))),
    'BulkEmailEntryList': ('list', 'BulkEmailEntry', None, False, None),
    'BulkEmailEntryResult': ('structure', (), (('Status', 'BulkEmailStatus'), ('Error', 'ErrorMessage'), ('MessageId', 'OutboundMessageId'))),
    'BulkEmailEntryResultList': ('list', 'BulkEmailEntryResult', None, False, None),
    'BulkEmailStatus': ('string', None),
    'Charset': ('string', None),
    'ConcurrentModificationException': ('structure', (), ()),
    'ConfigurationSetName': ('string', None),
    'ConflictException': ('structure', (), ()),
    'ContactListName': ('string', None),
    'Content': ('structure', ('Data',), (('Data', 'MessageData'), ('Charset', 'Charset'))),
    'Destination': ('structure', (), (('ToAddresses', 'EmailAddressList'), ('CcAddresses', 'EmailAddressList'), ('BccAddresses', 'EmailAddressList'))),
    'EmailAddress': ('string', None),
    'EmailAddressList': ('list', 'EmailAddress', None, False, None),
    'EmailContent': ('structure', (), (('Simple', 'Message'), ('Raw', 'RawMessage'), ('Template', 'Template'))),
    'EmailTemplateData': ('string', None),
    'EmailTemplateName': ('string', 1),
    'ErrorMessage': ('string', None),
    'InternalServiceErrorException': ('structure', (), ()),
    'InvalidNextTokenException': ('structure', (), ()),
    'LimitExceededException': ('structure', (), ()),
    'ListManagementOptions': ('structure', ('ContactListName',), (('ContactListName', 'ContactListName'), ('TopicName', 'TopicName'))),
    'MailFromDomainNotVerifiedException': ('structure', (), ()),
    'Message': ('structure', ('Subject', 'Body'), (('Subject', 'Content'), ('Body', 'Body'))),
    'MessageData': ('string', None),
    'MessageRejected': ('structure', (), ()),
    'MessageTag': ('structure', ('Name', 'Value'), (('Name', 'MessageTagName'), ('Value', 'MessageTagValue'))),
    'MessageTagList': ('list', 'MessageTag', None, False, None),
    'MessageTagName': ('string', None),
    'MessageTagValue': ('string', None),
    'NotFoundException': ('structure', (), ()),
    'OutboundMessageId': ('string', None),
    'RawMessage': ('structure', ('Data',), (('Data', 'RawMessageData'),)),
    'RawMessageData': ('blob',),
    'ReplacementEmailContent': ('structure', (), (('ReplacementTemplate', 'ReplacementTemplate'),)),
    'ReplacementTemplate': ('structure', (), (('ReplacementTemplateData', 'EmailTemplateData'),)),
    'SendBulkEmailRequest': ('structure', ('DefaultContent', 'BulkEmailEntries'), (('FromEmailAddress', 'EmailAddress'), ('FromEmailAddressIdentityArn', 'AmazonResourceName'), ('ReplyToAddresses', 'EmailAddressList'), ('FeedbackForwardingEmailAddress', 'EmailAddress'), ('FeedbackForwardingEmailAddressIdentityArn', 'AmazonResourceName'), ('DefaultEmailTags', 'MessageTagList'), ('DefaultContent', 'BulkEmailContent'), ('BulkEmailEntries', 'BulkEmailEntryList'), ('ConfigurationSetName', 'ConfigurationSetName'))),
    'SendBulkEmailResponse': ('structure', ('BulkEmailEntryResults',), (('BulkEmailEntryResults', 'BulkEmailEntryResultList'),)),
    'SendEmailRequest': ('structure', ('Content',), (('FromEmailAddress', 'EmailAddress'), ('FromEmailAddressIdentityArn', 'AmazonResourceName'), ('Destination', 'Destination'), ('ReplyToAddresses', 'EmailAddressList'), ('FeedbackForwardingEmailAddress', 'EmailAddress'), ('FeedbackForwardingEmailAddressIdentityArn', 'AmazonResourceName'), ('Content', 'EmailContent'), ('EmailTags', 'MessageTagList'), ('ConfigurationSetName', 'ConfigurationSetName'), ('ListManagementOptions', 'ListManagementOptions'))),
    'SendEmailResponse': ('structure', (), (('MessageId', 'OutboundMessageId'),)),
    'SendingPausedException': ('structure', (), ()),
    'Template': ('structure', (), (('TemplateName', 'EmailTemplateName'), ('TemplateArn', 'AmazonResourceName'), ('TemplateData', 'EmailTemplateData'))),
    'TooManyRequestsException': ('structure', (), ()),
    'TopicName': ('string', None),
}
