// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Functions;
using Nexus.Node.Transports;

namespace Nexus.Node.Pool;

/// <summary>The environment a function's runtime starts with: Lambda's variables, the function's own, then its transport's.</summary>
public static class LambdaEnvironment
{
    /// <summary>
    /// The variables of one instance, and which of them differ between instances of the same revision (a fork template
    /// sets those per child): the log stream, and whatever the transport adds or changes (the channel's descriptors, say).
    /// </summary>
    public static (Dictionary<string, string> Environment, HashSet<string> InstanceVariables) For(
        FunctionManifest manifest, string instanceId, IReadOnlyDictionary<string, string> transport)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
            ["HOME"] = "/tmp",
            ["PYTHONPATH"] = "/opt/nexus/runtime",
            ["PYTHONUNBUFFERED"] = "1",
            ["PYTHONDONTWRITEBYTECODE"] = "1",

            // malloc backs its heap with transparent huge pages (madvise; glibc 2.35+): an idle instance gives its heap
            // back after a second (nexus_runtime/heap.py) and the next call faults it in again, 8 faults for 16 MiB
            // instead of ~4,000, each of which costs ~15 us under these machines' hypervisor (docs/runtime.md). A
            // function's own GLIBC_TUNABLES replaces it.
            ["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1",
            ["NEXUS_IO"] = manifest.Io == IoMode.Baseline ? "baseline" : "nexus",
            ["_HANDLER"] = manifest.Handler,
            ["LAMBDA_TASK_ROOT"] = "/var/task",
            ["AWS_LAMBDA_FUNCTION_NAME"] = manifest.Name,
            ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = manifest.MemoryMb.ToString(CultureInfo.InvariantCulture),
            ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST",
            ["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + manifest.Name,
            ["AWS_LAMBDA_LOG_STREAM_NAME"] = instanceId,
            ["AWS_REGION"] = LambdaJson.Region,
            ["AWS_DEFAULT_REGION"] = LambdaJson.Region,

            // As Lambda sets them: libraries tell Lambda from elsewhere by these (botocore's user agent, tracers, Powertools).
            ["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + LambdaJson.Runtime,
            ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand",
            ["LAMBDA_RUNTIME_DIR"] = "/opt/nexus/runtime",
            ["TZ"] = ":UTC",
        };
        if (manifest.Logging.Json)
        {
            // As Lambda sets them for a JSON log format; the runtime's logging reads them (nexus_runtime/logs.py).
            environment["AWS_LAMBDA_LOG_FORMAT"] = "JSON";
            environment["AWS_LAMBDA_LOG_LEVEL"] = manifest.Logging.ApplicationLogLevel;
        }

        foreach (var (name, value) in manifest.Environment)
        {
            environment[name] = value;
        }

        var instanceVariables = new HashSet<string>(StringComparer.Ordinal) { "AWS_LAMBDA_LOG_STREAM_NAME" };
        foreach (var (name, value) in transport)
        {
            if (!environment.TryGetValue(name, out var shared) || shared != value)
            {
                instanceVariables.Add(name);
            }

            environment[name] = value;
        }

        return (environment, instanceVariables);
    }
}
