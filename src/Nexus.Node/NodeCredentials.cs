// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nexus.Node;

/// <summary>An access key pair (the node's admin key, or a function's key).</summary>
public sealed record KeyPair(string AccessKeyId, string SecretAccessKey)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>A fresh random pair shaped like AWS's (20-character id with <paramref name="prefix"/>, 40-character secret).</summary>
    public static KeyPair Generate(string prefix)
    {
        var id = prefix + new string([.. RandomNumberGenerator.GetItems<char>(Alphabet, 20 - prefix.Length)]);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)).Replace('/', 'x').Replace('+', 'y');
        return new KeyPair(id, secret);
    }

    /// <summary>
    /// The node's admin key pair: read from <paramref name="path"/>, or generated and written there (mode 0600)
    /// on first start. A file readable by others is refused: it grants full access to the store.
    /// </summary>
    public static KeyPair LoadOrCreateAdmin(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the Nexus node runs on Linux only");
        }

        if (File.Exists(path))
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new UnauthorizedAccessException($"{path} is readable or writable by group/others (mode {Convert.ToString((int)mode, 8)}); run: chmod 600 {path}");
            }

            try
            {
                return JsonSerializer.Deserialize(File.ReadAllText(path), KeyPairJson.Default.KeyPair)
                    ?? throw new InvalidDataException($"{path}: empty credentials file");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: not a valid credentials file: {e.Message}", e);
            }
        }

        var pair = Generate("NXA");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, pair, KeyPairJson.Default.KeyPair);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
        return pair;
    }

    /// <summary>
    /// What a caller of the management API shows (header <see cref="ManagementTokenHeader"/>) to prove it can read this
    /// key (the node's admin key: root's file): an HMAC of a fixed label under the secret, so the secret itself is never
    /// sent. The API is on loopback, where any local user can connect.
    /// </summary>
    public string ManagementToken() =>
        Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(SecretAccessKey), "nexus management API"u8));

    /// <summary>The header that carries <see cref="ManagementToken"/>.</summary>
    public const string ManagementTokenHeader = "X-Nexus-Token";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(KeyPair))]
internal sealed partial class KeyPairJson : JsonSerializerContext;
