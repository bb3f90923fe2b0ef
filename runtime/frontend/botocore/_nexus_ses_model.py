# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the ses model (2010-12-01, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py ses SendEmail,SendRawEmail,SendTemplatedEmail
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'ses'
PROTOCOL = 'query'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2010-12-01'
ENDPOINT_PREFIX = 'email'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2010-12-01', 'endpointPrefix': 'email', 'protocol': 'query', 'serviceAbbreviation': 'Amazon SES', 'serviceFullName': 'Amazon Simple Email Service', 'serviceId': 'SES', 'signatureVersion': 'v4', 'signingName': 'ses', 'uid': 'email-2010-12-01', 'xmlNamespace': 'http://ses.amazonaws.com/doc/2010-12-01/'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'SendEmail': ('SendEmailRequest', 'SendEmailResponse', (), 'SendEmailResult'),
    'SendRawEmail': ('SendRawEmailRequest', 'SendRawEmailResponse', (), 'SendRawEmailResult'),
    'SendTemplatedEmail': ('SendTemplatedEmailRequest', 'SendTemplatedEmailResponse', (), 'SendTemplatedEmailResult'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'AccountSendingPausedException',
    'AlreadyExistsException',
    'CannotDeleteException',
    'ConfigurationSetAlreadyExistsException',
    'ConfigurationSetDoesNotExistException',
    'ConfigurationSetSendingPausedException',
    'CustomVerificationEmailInvalidContentException',
    'CustomVerificationEmailTemplateAlreadyExistsException',
    'CustomVerificationEmailTemplateDoesNotExistException',
    'EventDestinationAlreadyExistsException',
    'EventDestinationDoesNotExistException',
    'FromEmailAddressNotVerifiedException',
    'InvalidCloudWatchDestinationException',
    'InvalidConfigurationSetException',
    'InvalidDeliveryOptionsException',
    'InvalidFirehoseDestinationException',
    'InvalidLambdaFunctionException',
    'InvalidPolicyException',
    'InvalidRenderingParameterException',
    'InvalidS3ConfigurationException',
    'InvalidSNSDestinationException',
    'InvalidSnsTopicException',
    'InvalidTemplateException',
    'InvalidTrackingOptionsException',
    'LimitExceededException',
    'MailFromDomainNotVerifiedException',
    'MessageRejected',
    'MissingRenderingAttributeException',
    'ProductionAccessNotGrantedException',
    'RuleDoesNotExistException',
    'RuleSetDoesNotExistException',
    'TemplateDoesNotExistException',
    'TrackingOptionsAlreadyExistsException',
    'TrackingOptionsDoesNotExistException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {'AlreadyExists': 'AlreadyExistsException', 'CannotDelete': 'CannotDeleteException', 'ConfigurationSetAlreadyExists': 'ConfigurationSetAlreadyExistsException', 'ConfigurationSetDoesNotExist': 'ConfigurationSetDoesNotExistException', 'CustomVerificationEmailInvalidContent': 'CustomVerificationEmailInvalidContentException', 'CustomVerificationEmailTemplateAlreadyExists': 'CustomVerificationEmailTemplateAlreadyExistsException', 'CustomVerificationEmailTemplateDoesNotExist': 'CustomVerificationEmailTemplateDoesNotExistException', 'EventDestinationAlreadyExists': 'EventDestinationAlreadyExistsException', 'EventDestinationDoesNotExist': 'EventDestinationDoesNotExistException', 'FromEmailAddressNotVerified': 'FromEmailAddressNotVerifiedException', 'InvalidCloudWatchDestination': 'InvalidCloudWatchDestinationException', 'InvalidConfigurationSet': 'InvalidConfigurationSetException', 'InvalidDeliveryOptions': 'InvalidDeliveryOptionsException', 'InvalidFirehoseDestination': 'InvalidFirehoseDestinationException', 'InvalidLambdaFunction': 'InvalidLambdaFunctionException', 'InvalidPolicy': 'InvalidPolicyException', 'InvalidRenderingParameter': 'InvalidRenderingParameterException', 'InvalidS3Configuration': 'InvalidS3ConfigurationException', 'InvalidSNSDestination': 'InvalidSNSDestinationException', 'InvalidSnsTopic': 'InvalidSnsTopicException', 'InvalidTemplate': 'InvalidTemplateException', 'InvalidTrackingOptions': 'InvalidTrackingOptionsException', 'LimitExceeded': 'LimitExceededException', 'MissingRenderingAttribute': 'MissingRenderingAttributeException', 'ProductionAccessNotGranted': 'ProductionAccessNotGrantedException', 'RuleDoesNotExist': 'RuleDoesNotExistException', 'RuleSetDoesNotExist': 'RuleSetDoesNotExistException', 'TemplateDoesNotExist': 'TemplateDoesNotExistException'}

SHAPES = {
    'AccountSendingPausedException': ('structure', (), ()),
    'Address': ('string', None),
    'AddressList': ('list', 'Address', None, False, None),
    'AlreadyExistsException': ('structure', (), (('Name', 'RuleOrRuleSetName'),)),
    'AmazonResourceName': ('string', None),
    'Body': ('structure', (), (('Text', 'Content'), ('Html', 'Content'))),
    'CannotDeleteException': ('structure', (), (('Name', 'RuleOrRuleSetName'),)),
    'Charset': ('string', None),
    'ConfigurationSetAlreadyExistsException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'),)),
    'ConfigurationSetDoesNotExistException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'),)),
    'ConfigurationSetName': ('string', None),
    'ConfigurationSetSendingPausedException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'),)),
    'Content': ('structure', ('Data',), (('Data', 'MessageData'), ('Charset', 'Charset'))),
    'CustomVerificationEmailInvalidContentException': ('structure', (), ()),
    'CustomVerificationEmailTemplateAlreadyExistsException': ('structure', (), (('CustomVerificationEmailTemplateName', 'TemplateName'),)),
    'CustomVerificationEmailTemplateDoesNotExistException': ('structure', (), (('CustomVerificationEmailTemplateName', 'TemplateName'),)),
    'Destination': ('structure', (), (('ToAddresses', 'AddressList'), ('CcAddresses', 'AddressList'), ('BccAddresses', 'AddressList'))),
    'EventDestinationAlreadyExistsException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'), ('EventDestinationName', 'EventDestinationName'))),
    'EventDestinationDoesNotExistException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'), ('EventDestinationName', 'EventDestinationName'))),
    'EventDestinationName': ('string', None),
    'FromAddress': ('string', None),
    'FromEmailAddressNotVerifiedException': ('structure', (), (('FromEmailAddress', 'FromAddress'),)),
    'InvalidCloudWatchDestinationException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'), ('EventDestinationName', 'EventDestinationName'))),
    'InvalidConfigurationSetException': ('structure', (), ()),
    'InvalidDeliveryOptionsException': ('structure', (), ()),
    'InvalidFirehoseDestinationException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'), ('EventDestinationName', 'EventDestinationName'))),
    'InvalidLambdaFunctionException': ('structure', (), (('FunctionArn', 'AmazonResourceName'),)),
    'InvalidPolicyException': ('structure', (), ()),
    'InvalidRenderingParameterException': ('structure', (), (('TemplateName', 'TemplateName'),)),
    'InvalidS3ConfigurationException': ('structure', (), (('Bucket', 'S3BucketName'),)),
    'InvalidSNSDestinationException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'), ('EventDestinationName', 'EventDestinationName'))),
    'InvalidSnsTopicException': ('structure', (), (('Topic', 'AmazonResourceName'),)),
    'InvalidTemplateException': ('structure', (), (('TemplateName', 'TemplateName'),)),
    'InvalidTrackingOptionsException': ('structure', (), ()),
    'LimitExceededException': ('structure', (), ()),
    'MailFromDomainNotVerifiedException': ('structure', (), ()),
    'Message': ('structure', ('Subject', 'Body'), (('Subject', 'Content'), ('Body', 'Body'))),
    'MessageData': ('string', None),
    'MessageId': ('string', None),
    'MessageRejected': ('structure', (), ()),
    'MessageTag': ('structure', ('Name', 'Value'), (('Name', 'MessageTagName'), ('Value', 'MessageTagValue'))),
    'MessageTagList': ('list', 'MessageTag', None, False, None),
    'MessageTagName': ('string', None),
    'MessageTagValue': ('string', None),
    'MissingRenderingAttributeException': ('structure', (), (('TemplateName', 'TemplateName'),)),
    'ProductionAccessNotGrantedException': ('structure', (), ()),
    'RawMessage': ('structure', ('Data',), (('Data', 'RawMessageData'),)),
    'RawMessageData': ('blob',),
    'RuleDoesNotExistException': ('structure', (), (('Name', 'RuleOrRuleSetName'),)),
    'RuleOrRuleSetName': ('string', None),
    'RuleSetDoesNotExistException': ('structure', (), (('Name', 'RuleOrRuleSetName'),)),
    'S3BucketName': ('string', None),
    'SendEmailRequest': ('structure', ('Source', 'Destination', 'Message'), (('Source', 'Address'), ('Destination', 'Destination'), ('Message', 'Message'), ('ReplyToAddresses', 'AddressList'), ('ReturnPath', 'Address'), ('SourceArn', 'AmazonResourceName'), ('ReturnPathArn', 'AmazonResourceName'), ('Tags', 'MessageTagList'), ('ConfigurationSetName', 'ConfigurationSetName'))),
    'SendEmailResponse': ('structure', ('MessageId',), (('MessageId', 'MessageId'),)),
    'SendRawEmailRequest': ('structure', ('RawMessage',), (('Source', 'Address'), ('Destinations', 'AddressList'), ('RawMessage', 'RawMessage'), ('FromArn', 'AmazonResourceName'), ('SourceArn', 'AmazonResourceName'), ('ReturnPathArn', 'AmazonResourceName'), ('Tags', 'MessageTagList'), ('ConfigurationSetName', 'ConfigurationSetName'))),
    'SendRawEmailResponse': ('structure', ('MessageId',), (('MessageId', 'MessageId'),)),
    'SendTemplatedEmailRequest': ('structure', ('Source', 'Destination', 'Template', 'TemplateData'), (('Source', 'Address'), ('Destination', 'Destination'), ('ReplyToAddresses', 'AddressList'), ('ReturnPath', 'Address'), ('SourceArn', 'AmazonResourceName'), ('ReturnPathArn', 'AmazonResourceName'), ('Tags', 'MessageTagList'), ('ConfigurationSetName', 'ConfigurationSetName'), ('Template', 'TemplateName'), ('TemplateArn', 'AmazonResourceName'), ('TemplateData', 'TemplateData'))),
    'SendTemplatedEmailResponse': ('structure', ('MessageId',), (('MessageId', 'MessageId'),)),
    'TemplateData': ('string', None),
    'TemplateDoesNotExistException': ('structure', (), (('TemplateName', 'TemplateName'),)),
    'TemplateName': ('string', None),
    'TrackingOptionsAlreadyExistsException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'),)),
    'TrackingOptionsDoesNotExistException': ('structure', (), (('ConfigurationSetName', 'ConfigurationSetName'),)),
}
