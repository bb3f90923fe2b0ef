// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Functions.Tests;

public sealed class ManifestParserTests : IDisposable
{
    private const string Full = """
        name: hello-s3                # [a-z0-9-], 1..48
        handler: handler.handler
        memory: 256
        cpus: 0.5
        timeout: 12
        eventRetries: 0
        io: baseline
        sandbox: microvm
        storage:
          - bucket: nexus-examples
            prefix: hello-s3/
            access: read
          - bucket: nexus-out
            access: readwrite
        environment: {INPUT_KEY: hello-s3/input.txt, COUNT: 3}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FullManifestMapsEveryField()
    {
        var m = ManifestParser.Parse(Full);
        Assert.Equal("hello-s3", m.Name);
        Assert.Equal("handler.handler", m.Handler);
        Assert.Equal(256, m.MemoryMb);
        Assert.Equal(0.5, m.Cpus);
        Assert.Equal(TimeSpan.FromSeconds(12), m.Timeout);
        Assert.Equal(0, m.EventRetries);
        Assert.Equal(IoMode.Baseline, m.Io);
        Assert.Equal("microvm", m.Sandbox);
        Assert.Equal(2, m.Storage.Count);
        Assert.Equal(new StorageGrant("nexus-examples", "hello-s3/", StorageAccess.Read), m.Storage[0]);
        Assert.Equal(new StorageGrant("nexus-out", "", StorageAccess.ReadWrite), m.Storage[1]);
        Assert.Equal("hello-s3/input.txt", m.Environment["INPUT_KEY"]);
        Assert.Equal("3", m.Environment["COUNT"]);
        Assert.True(m.Allows("nexus-examples", "hello-s3/input.txt", StorageAccess.Read));
        Assert.False(m.Allows("nexus-examples", "hello-s3/input.txt", StorageAccess.Write));
        Assert.False(m.Allows("nexus-examples", "other/input.txt", StorageAccess.Read));
        Assert.True(m.Allows("nexus-out", "anything", StorageAccess.Write));
    }

    [Fact]
    public void MinimalManifestTakesDefaults()
    {
        var m = ManifestParser.Parse("name: f\nhandler: app.main\n");
        Assert.Equal(128, m.MemoryMb);
        Assert.Null(m.Cpus);
        Assert.Equal(TimeSpan.FromSeconds(30), m.Timeout);
        Assert.Equal(2, m.EventRetries);
        Assert.Equal(IoMode.Nexus, m.Io);
        Assert.Null(m.Sandbox);
        Assert.Empty(m.Storage);
        Assert.Empty(m.Environment);
    }

    [Theory]
    [InlineData("name: f\nhandler: h.h\nio: nexus\n", IoMode.Nexus)]
    [InlineData("name: f\nhandler: h.h\nio: baseline\n", IoMode.Baseline)]
    public void IoModes(string yaml, IoMode expected) => Assert.Equal(expected, ManifestParser.Parse(yaml).Io);

    [Fact]
    public void AsyncIoOptionsDefaultOnAndParse()
    {
        var defaults = ManifestParser.Parse("name: f\nhandler: h.h\n");
        Assert.Equal(WriteBackMode.Async, defaults.WriteBack);
        Assert.True(defaults.Prefetch);
        Assert.Empty(defaults.Inputs);

        var manifest = ManifestParser.Parse("name: f\nhandler: h.h\nwriteback: sync\nprefetch: false\ninputs:\n  - bucket: $.in.bucket\n    key: $.in.files[1].key\n  - bucket: cfg-bucket\n    key: settings.json\n");
        Assert.Equal(WriteBackMode.Sync, manifest.WriteBack);
        Assert.False(manifest.Prefetch);
        Assert.Equal(2, manifest.Inputs.Count);

        using var doc = System.Text.Json.JsonDocument.Parse("""{"in":{"bucket":"data","files":[{"key":"a"},{"key":"b/c d"}]}}""");
        Assert.Equal(("data", "b/c d"), manifest.Inputs[0].Resolve(doc.RootElement));
        Assert.Equal(("cfg-bucket", "settings.json"), manifest.Inputs[1].Resolve(doc.RootElement));

        using var other = System.Text.Json.JsonDocument.Parse("""{"in":{"bucket":"data","files":[{"key":7}]}}""");
        Assert.Null(manifest.Inputs[0].Resolve(other.RootElement));
    }

    [Theory]
    [InlineData("$.n", """{"n":12}""", "12")]
    [InlineData("$.a[0]", """{"a":["x"]}""", "x")]
    [InlineData("$.a[1]", """{"a":["x"]}""", null)]
    [InlineData("$.a.b", """{"a":"str"}""", null)]
    [InlineData("$.a", """{"a":{"nested":1}}""", null)]
    [InlineData("$.a", """[1]""", null)]
    public void EventPathResolvesStringsAndNumbersOnly(string path, string json, string? expected)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(expected, EventPath.Parse(path).Resolve(doc.RootElement));
    }

    [Theory]
    [InlineData("name: f\nhandler: h.h\nmemory: lots\n", "function.yaml:3: memory: expected a whole number of MiB between 64 and 10240, got 'lots'")]
    [InlineData("name: f\nhandler: h.h\nmemory: 32\n", "function.yaml:3: memory: expected a whole number of MiB between 64 and 10240, got '32'")]
    [InlineData("name: f\nhandler: h.h\nmemory: 128.5\n", "function.yaml:3: memory: expected a whole number of MiB between 64 and 10240, got '128.5'")]
    [InlineData("name: f\nhandler: h.h\nmemory: 20000\n", "function.yaml:3: memory: expected a whole number of MiB between 64 and 10240, got '20000'")]
    [InlineData("name: f\nhandler: h.h\ncpus: many\n", "function.yaml:3: cpus: expected a number of cores between 0.1 and 64, got 'many'")]
    [InlineData("name: f\nhandler: h.h\ncpus: 0\n", "function.yaml:3: cpus: expected a number of cores between 0.1 and 64, got '0'")]
    [InlineData("name: f\nhandler: h.h\ntimeout: 0\n", "function.yaml:3: timeout: expected a whole number of seconds between 1 and 900, got '0'")]
    [InlineData("name: f\nhandler: h.h\neventRetries: 3\n", "function.yaml:3: eventRetries: expected 0, 1 or 2 (how many times a failed Event invocation runs again, as Lambda's MaximumRetryAttempts), got '3'")]
    [InlineData("name: f\nhandler: h.h\ntimeout: 901\n", "function.yaml:3: timeout: expected a whole number of seconds between 1 and 900, got '901'")]
    [InlineData("name: f\nhandler: h.h\ntimeout: -3\n", "function.yaml:3: timeout: expected a whole number of seconds between 1 and 900, got '-3'")]
    [InlineData("name: f\nhandler: h.h\nio: tcp\n", "function.yaml:3: io: expected 'nexus' or 'baseline', got 'tcp'")]
    [InlineData("name: f\nhandler: h.h\nsandbox: docker\n", "function.yaml:3: sandbox: expected 'oci' or 'microvm', got 'docker'")]
    [InlineData("name: f\nhandler: h.h\ncolour: blue\n", "function.yaml:3: colour: unknown field (known fields: name, handler, memory, cpus, timeout, eventRetries, io, sandbox, storage, environment, writeback, prefetch, inputs, services, logging, description)")]
    [InlineData("name: f\nhandler: h.h\ndescription: ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\n", "function.yaml:3: description: expected at most 256 characters (Lambda's limit), got 257")]
    [InlineData("name: f\nhandler: h.h\nlogging: JSON\n", "function.yaml:3: logging: expected a mapping (format: JSON, applicationLogLevel: INFO, systemLogLevel: WARN)")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  format: json\n", "function.yaml:4: logging.format: expected 'Text' or 'JSON' (Lambda's log formats), got 'json'")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  format: JSON\n  applicationLogLevel: VERBOSE\n", "function.yaml:5: logging.applicationLogLevel: expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got 'VERBOSE'")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  format: JSON\n  systemLogLevel: ERROR\n", "function.yaml:5: logging.systemLogLevel: expected one of DEBUG, INFO, WARN, got 'ERROR'")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  applicationLogLevel: DEBUG\n", "function.yaml:4: logging.applicationLogLevel: is set only with format: JSON (as on Lambda, log levels filter JSON records)")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  format: Text\n  systemLogLevel: WARN\n", "function.yaml:5: logging.systemLogLevel: is set only with format: JSON (as on Lambda, log levels filter JSON records)")]
    [InlineData("name: f\nhandler: h.h\nlogging:\n  group: x\n", "function.yaml:4: logging.group: unknown field (known fields: format, applicationLogLevel, systemLogLevel)")]
    [InlineData("handler: h.h\n", "function.yaml:1: name: required field is missing")]
    [InlineData("name: f\n", "function.yaml:1: handler: required field is missing")]
    [InlineData("name: ''\nhandler: h.h\n", "function.yaml:1: name: must not be empty")]
    [InlineData("name: Hello\nhandler: h.h\n", "function.yaml:1: name: expected 1 to 48 characters of a-z, 0-9 and '-', got 'Hello'")]
    [InlineData("name: a_b\nhandler: h.h\n", "function.yaml:1: name: expected 1 to 48 characters of a-z, 0-9 and '-', got 'a_b'")]
    [InlineData("name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nhandler: h.h\n", "function.yaml:1: name: expected 1 to 48 characters of a-z, 0-9 and '-', got 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'")]
    [InlineData("name: f\nhandler: handler\n", "function.yaml:2: handler: expected 'module.function' (Python identifiers, e.g. handler.handler or src/handler.handler), got 'handler'")]
    [InlineData("name: f\nhandler: my-mod.run\n", "function.yaml:2: handler: expected 'module.function' (Python identifiers, e.g. handler.handler or src/handler.handler), got 'my-mod.run'")]
    [InlineData("name: f\nhandler: src/handler\n", "function.yaml:2: handler: expected 'module.function' (Python identifiers, e.g. handler.handler or src/handler.handler), got 'src/handler'")]
    [InlineData("name: f\nhandler: ../up.run\n", "function.yaml:2: handler: expected 'module.function' (Python identifiers, e.g. handler.handler or src/handler.handler), got '../up.run'")]
    [InlineData("name: f\nhandler: [a, b]\n", "function.yaml:2: handler: expected a single value, got a list")]
    [InlineData("name: f\nhandler: h.h\nmemory: {a: 1}\n", "function.yaml:3: memory: expected a single value, got a mapping")]
    [InlineData("name: f\nhandler: h.h\nstorage: yes\n", "function.yaml:3: storage: expected a list of grants (- bucket: ..., prefix: ..., access: read|write|readwrite)")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - nexus-examples\n", "function.yaml:4: storage[0]: expected a mapping with bucket, prefix and access")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - bucket: b-1\n    access: delete\n", "function.yaml:5: storage[0].access: expected 'read', 'write' or 'readwrite', got 'delete'")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - bucket: b-1\n", "function.yaml:4: storage[0].access: required field is missing")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - access: read\n", "function.yaml:4: storage[0].bucket: required field is missing")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - bucket: Bad_Bucket\n    access: read\n", "function.yaml:4: storage[0].bucket: expected an S3 bucket name (3 to 63 characters of a-z, 0-9, '.' and '-'), got 'Bad_Bucket'")]
    [InlineData("name: f\nhandler: h.h\nstorage:\n  - bucket: b-1\n    access: read\n    region: eu\n", "function.yaml:6: storage[0].region: unknown field (known fields: bucket, prefix, access)")]
    [InlineData("name: f\nhandler: h.h\nenvironment: [A]\n", "function.yaml:3: environment: expected a mapping of variable names to values")]
    [InlineData("name: f\nhandler: h.h\nenvironment:\n  1BAD: x\n", "function.yaml:4: environment.1BAD: expected a variable name of letters, digits and '_' not starting with a digit")]
    [InlineData("name: f\nhandler: h.h\nenvironment:\n  AWS_SECRET_ACCESS_KEY: x\n", "function.yaml:4: environment.AWS_SECRET_ACCESS_KEY: is reserved: the node sets it (reserved: PYTHONPATH, TZ and names starting with AWS_, LAMBDA_, NEXUS_, _HANDLER, _X_AMZN_)")]
    [InlineData("name: f\nhandler: h.h\nenvironment:\n  A: [1, 2]\n", "function.yaml:4: environment.A: expected a single value, got a list")]
    [InlineData("name: f\nhandler: h.h\nwriteback: later\n", "function.yaml:3: writeback: expected 'async' or 'sync', got 'later'")]
    [InlineData("name: f\nhandler: h.h\nprefetch: yes please\n", "function.yaml:3: prefetch: expected 'true' or 'false', got 'yes please'")]
    [InlineData("name: f\nhandler: h.h\ninputs: x\n", "function.yaml:3: inputs: expected a list of inputs (- bucket: <name or $.path>, key: <key or $.path>)")]
    [InlineData("name: f\nhandler: h.h\ninputs:\n  - bucket: b-1\n", "function.yaml:4: inputs[0].key: required field is missing")]
    [InlineData("name: f\nhandler: h.h\ninputs:\n  - bucket: Bad_B\n    key: k\n", "function.yaml:4: inputs[0].bucket: expected an S3 bucket name or an event path starting with '$', got 'Bad_B'")]
    [InlineData("name: f\nhandler: h.h\ninputs:\n  - bucket: b-1\n    key: $.a..b\n", "function.yaml:5: inputs[0].key: expected a field name at position 4 of '$.a..b'")]
    [InlineData("name: f\nhandler: h.h\ninputs:\n  - bucket: b-1\n    key: $.a[x]\n", "function.yaml:5: inputs[0].key: expected [index] with a whole number at position 3 of '$.a[x]'")]
    [InlineData("name: f\nhandler: h.h\ninputs:\n  - bucket: b-1\n    key: k\n    etag: e\n", "function.yaml:6: inputs[0].etag: unknown field (known fields: bucket, key)")]
    [InlineData("name: f\nhandler: h.h\nservices: dynamodb\n", "function.yaml:3: services: expected a list of grants (- service: dynamodb, actions: [GetItem, PutItem], resource: table/orders)")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: s3\n    actions: [GetObject]\n    resource: '*'\n", "function.yaml:4: services[0].service: expected a service name as botocore gives it (a-z, 0-9 and '-', e.g. dynamodb; S3 has its own 'storage' grants), got 's3'")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    resource: table/t\n", "function.yaml:4: services[0].actions: required field is missing")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: GetItem\n    resource: table/t\n", "function.yaml:5: services[0].actions: expected a non-empty list of operation names (e.g. [GetItem, PutItem], or [\"*\"] for all)")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: [get_item]\n    resource: table/t\n", "function.yaml:5: services[0].actions: expected an operation name as the service's API names it (e.g. GetItem) or \"*\", got 'get_item'")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: [connect]\n    resource: table/t\n", "function.yaml:5: services[0].actions: expected an operation name as the service's API names it (e.g. GetItem) or \"*\", got 'connect'")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: rds-db\n    actions: [Connect]\n    resource: db:5432/app\n", "function.yaml:5: services[0].actions: rds-db (RDS IAM database authentication tokens) has one action, connect, got 'Connect'")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: [GetItem]\n    resource: table/*/index\n", "function.yaml:6: services[0].resource: expected a resource such as table/orders, at most 1024 characters, with '*' only at the end, got 'table/*/index'")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: [GetItem]\n", "function.yaml:4: services[0].resource: required field is missing")]
    [InlineData("name: f\nhandler: h.h\nservices:\n  - service: dynamodb\n    actions: [GetItem]\n    resource: table/t\n    effect: deny\n", "function.yaml:7: services[0].effect: unknown field (known fields: service, actions, resource)")]
    [InlineData("- name: f\n", "function.yaml:1: (manifest): expected a mapping of fields (name: ..., handler: ...)")]
    [InlineData("", "function.yaml: (manifest): is empty; expected at least 'name' and 'handler'")]
    [InlineData("name: f\n---\nname: g\n", "function.yaml:3: (manifest): holds more than one YAML document; expected one")]
    public void BadManifestsNameFileLineAndField(string yaml, string expected)
    {
        var e = Assert.Throws<ManifestException>(() => ManifestParser.Parse(yaml));
        Assert.Equal(expected, e.Message);
    }

    [Fact]
    public void LoggingTakesLambdasFormatsAndLevels()
    {
        Assert.Equal(FunctionLogging.Text, ManifestParser.Parse("name: f\nhandler: h.h\n").Logging);
        Assert.Equal(FunctionLogging.Text, ManifestParser.Parse("name: f\nhandler: h.h\nlogging:\n  format: Text\n").Logging);
        Assert.Equal(new FunctionLogging(true, "INFO", "INFO"), ManifestParser.Parse("name: f\nhandler: h.h\nlogging:\n  format: JSON\n").Logging);
        var logging = ManifestParser.Parse("name: f\nhandler: h.h\nlogging:\n  format: JSON\n  applicationLogLevel: TRACE\n  systemLogLevel: WARN\n").Logging;
        Assert.Equal(new FunctionLogging(true, "TRACE", "WARN"), logging);
        Assert.False(logging.WritesPlatformInfo);
    }

    [Fact]
    public void ServiceGrantsAreIamLike()
    {
        var m = ManifestParser.Parse("""
            name: f
            handler: h.h
            services:
              - service: dynamodb
                actions: [GetItem, PutItem, Query]
                resource: table/orders
              - service: sqs
                actions: ["*"]
                resource: "*"
              - service: dynamodb
                actions: [Scan]
                resource: table/logs-*
              - service: rds-db
                actions: [connect]
                resource: db.example.com:5432/app_*
            """);
        Assert.Equal(4, m.Services.Count);
        Assert.Equal(["GetItem", "PutItem", "Query"], m.Services[0].Actions);
        Assert.True(m.AllowsService("dynamodb", "GetItem", "table/orders"));
        Assert.False(m.AllowsService("dynamodb", "DeleteItem", "table/orders"));
        Assert.False(m.AllowsService("dynamodb", "GetItem", "table/orders2"));
        Assert.False(m.AllowsService("dynamodb", "GetItem", "*"));
        Assert.True(m.AllowsService("dynamodb", "Scan", "table/logs-2026"));
        Assert.False(m.AllowsService("dynamodb", "Scan", "table/logs"));
        Assert.False(m.AllowsService("dynamodb", "Scan", "*"));
        Assert.True(m.AllowsService("sqs", "SendMessage", "*"));
        Assert.False(m.AllowsService("sns", "Publish", "*"));
        // RDS database authentication: IAM's lower-case action, on HOST:PORT/USER.
        Assert.True(m.AllowsService("rds-db", "connect", "db.example.com:5432/app_reader"));
        Assert.False(m.AllowsService("rds-db", "connect", "db.example.com:5432/admin"));
    }

    [Fact]
    public void InvalidYamlReportsTheLine()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestParser.Parse("name: f\nhandler: h.h\nmemory: [1,\n"));
        Assert.StartsWith("function.yaml:", e.Message, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", e.Message, StringComparison.Ordinal);
        Assert.True(e.Line >= 3, e.Message);
    }

    [Fact]
    public void DuplicateFieldIsAnError()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestParser.Parse("name: f\nhandler: h.h\nname: g\n"));
        Assert.Contains("not valid YAML", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void LoadFolderChecksTheHandlerModuleExists()
    {
        File.WriteAllText(Path.Combine(_dir, "function.yaml"), "name: f\nhandler: handler.handler\n");
        var e = Assert.Throws<ManifestException>(() => ManifestParser.LoadFolder(_dir));
        Assert.Equal("function.yaml:2: handler: module 'handler' not found: expected handler.py in the function folder", e.Message);

        File.WriteAllText(Path.Combine(_dir, "handler.py"), "def handler(event, context):\n    return event\n");
        Assert.Equal("f", ManifestParser.LoadFolder(_dir).Name);
    }

    [Fact]
    public void LoadFolderAcceptsAPackageModule()
    {
        File.WriteAllText(Path.Combine(_dir, "function.yaml"), "name: f\nhandler: app.main.run\n");
        Directory.CreateDirectory(Path.Combine(_dir, "app", "main"));
        File.WriteAllText(Path.Combine(_dir, "app", "main", "__init__.py"), "def run(e, c):\n    return 1\n");
        Assert.Equal("app.main.run", ManifestParser.LoadFolder(_dir).Handler);
    }

    /// <summary>Lambda takes a Python handler in a subfolder by its path (src/handler.handler); so does the node.</summary>
    [Fact]
    public void LoadFolderAcceptsAModuleByItsPath()
    {
        File.WriteAllText(Path.Combine(_dir, "function.yaml"), "name: f\nhandler: src/app/handler.handler\n");
        Directory.CreateDirectory(Path.Combine(_dir, "src", "app"));
        File.WriteAllText(Path.Combine(_dir, "src", "app", "handler.py"), "def handler(e, c):\n    return 1\n");
        Assert.Equal("src/app/handler.handler", ManifestParser.LoadFolder(_dir).Handler);
    }

    [Fact]
    public void LoadFolderWithoutManifestSaysSo()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestParser.LoadFolder(_dir));
        Assert.Equal($"function.yaml: (file): not found in {_dir}: a function folder needs a function.yaml manifest", e.Message);
        var missing = Path.Combine(_dir, "nope");
        e = Assert.Throws<ManifestException>(() => ManifestParser.LoadFolder(missing));
        Assert.Equal($"{missing}: (folder): no such directory", e.Message);
    }
}
