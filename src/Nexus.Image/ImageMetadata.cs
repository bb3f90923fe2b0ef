// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nexus.Image;

/// <summary>meta.json beside each cached rootfs: what it was built from. Written before the entry is renamed into place.</summary>
internal sealed record ImageMetadata(
    CachedImageKind Kind,
    string ContentHash,
    string Mirror,
    string? BaseHash,
    string? RuntimeHash,
    DateTimeOffset Created,
    long SizeBytes)
{
    public const string FileName = "meta.json";

    public static ImageMetadata? TryRead(string entryDirectory)
    {
        try
        {
            var json = File.ReadAllText(Path.Combine(entryDirectory, FileName));
            return JsonSerializer.Deserialize(json, ImageMetadataJson.Default.ImageMetadata);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Write(string entryDirectory) =>
        File.WriteAllText(Path.Combine(entryDirectory, FileName), JsonSerializer.Serialize(this, ImageMetadataJson.Default.ImageMetadata));
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ImageMetadata))]
internal sealed partial class ImageMetadataJson : JsonSerializerContext;
