// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Nexus.Functions;

/// <summary>The <c>services:</c> grants of a manifest: permissions on services other than S3 (the generic path).</summary>
public static partial class ManifestParser
{
    internal static readonly string[] KnownServiceGrantFields = ["service", "actions", "resource"];

    // IAM's names for RDS database authentication: its one action is lower-case (resource HOST:PORT/USER).
    private const string DbAuthService = "rds-db";
    private const string DbConnectAction = "connect";

    private static List<ServiceGrant> ParseServices(YamlNode node, string fileName)
    {
        if (node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw new ManifestException(fileName, Line(node), "services", "expected a list of grants (- service: dynamodb, actions: [GetItem, PutItem], resource: table/orders)");
        }

        var grants = new List<ServiceGrant>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"services[{i}]";
            if (sequence.Children[i] is not YamlMappingNode map)
            {
                throw new ManifestException(fileName, Line(sequence.Children[i]), path, "expected a mapping with service, actions and resource");
            }

            var fields = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var key = ScalarKey(k, fileName, path);
                if (!KnownServiceGrantFields.Contains(key))
                {
                    throw new ManifestException(fileName, Line(k), $"{path}.{key}", $"unknown field (known fields: {string.Join(", ", KnownServiceGrantFields)})");
                }

                fields[key] = (v, Line(k));
            }

            var service = RequiredString(fields, "service", fileName, Line(map), path + ".");
            if (!ServiceNamePattern().IsMatch(service) || service == "s3")
            {
                throw new ManifestException(fileName, fields["service"].Line, path + ".service", $"expected a service name as botocore gives it (a-z, 0-9 and '-', e.g. dynamodb; S3 has its own 'storage' grants), got '{service}'");
            }

            if (!fields.TryGetValue("actions", out var actionsField))
            {
                throw new ManifestException(fileName, Line(map), path + ".actions", "required field is missing");
            }

            if (actionsField.Node is not YamlSequenceNode actionList || actionList.Children.Count == 0)
            {
                throw new ManifestException(fileName, actionsField.Line, path + ".actions", "expected a non-empty list of operation names (e.g. [GetItem, PutItem], or [\"*\"] for all)");
            }

            var actions = new List<string>();
            foreach (var action in actionList.Children)
            {
                var text = Scalar((action, Line(action)), fileName, path + ".actions");
                if (service == DbAuthService && text is not ("*" or DbConnectAction))
                {
                    throw new ManifestException(fileName, Line(action), path + ".actions", $"rds-db (RDS IAM database authentication tokens) has one action, connect, got '{text}'");
                }

                if (service != DbAuthService && text != "*" && !ActionPattern().IsMatch(text))
                {
                    throw new ManifestException(fileName, Line(action), path + ".actions", $"expected an operation name as the service's API names it (e.g. GetItem) or \"*\", got '{text}'");
                }

                actions.Add(text);
            }

            var resource = RequiredString(fields, "resource", fileName, Line(map), path + ".");
            if (resource.Length > 1024 || resource.Any(char.IsControl) || resource.IndexOf('*', StringComparison.Ordinal) is var star && star >= 0 && star != resource.Length - 1)
            {
                throw new ManifestException(fileName, fields["resource"].Line, path + ".resource", $"expected a resource such as table/orders, at most 1024 characters, with '*' only at the end, got '{resource}'");
            }

            grants.Add(new ServiceGrant(service, actions, resource));
        }

        return grants;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    private static partial Regex ServiceNamePattern();

    [GeneratedRegex("^[A-Z][A-Za-z0-9]{0,127}$")]
    private static partial Regex ActionPattern();
}
