// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Text;

namespace Nexus.Store;

/// <summary>S3's rules for bucket names and keys; bucket names become directory names, so they are checked first.</summary>
internal static class S3Names
{
    public const int MaxKeyBytes = 1024;

    /// <summary>Null when <paramref name="name"/> is a valid bucket name, else what is wrong with it.</summary>
    public static string? BucketNameProblem(string name)
    {
        if (name.Length is < 3 or > 63)
        {
            return "a bucket name must be 3 to 63 characters long";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-' || c == '.'))
            {
                return $"'{c}' is not allowed; use lower-case letters, digits, '-' and '.'";
            }
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return "a bucket name must begin and end with a letter or digit";
        }

        if (name.Contains("..", StringComparison.Ordinal))
        {
            return "a bucket name must not contain two adjacent periods";
        }

        if (IPAddress.TryParse(name, out _) && name.Count(c => c == '.') == 3)
        {
            return "a bucket name must not be formatted as an IP address";
        }

        return null;
    }

    public static void CheckBucketName(string name)
    {
        if (BucketNameProblem(name) is { } problem)
        {
            throw S3Errors.InvalidBucketName(name, problem);
        }
    }

    public static void CheckKey(string key)
    {
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes > MaxKeyBytes)
        {
            throw S3Errors.KeyTooLong(bytes);
        }
    }
}
