// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;
using Nexus.Node.Transports;

namespace Nexus.Node;

/// <summary>A function installed on the node: its manifest, its code folder and the revision of that code.</summary>
public sealed record DeployedFunction(FunctionManifest Manifest, string CodeDirectory, string Revision, string CodeSha256, long CodeSize, DateTimeOffset LastModified)
{
    public string Name => Manifest.Name;

    public string Arn => LambdaJson.FunctionArn(Manifest.Name);
}
