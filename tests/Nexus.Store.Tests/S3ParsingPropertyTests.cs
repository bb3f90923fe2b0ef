// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using CsCheck;

namespace Nexus.Store.Tests;

/// <summary>
/// The store's parsers of client input on generated data (CsCheck): request XML bodies, query strings and Range
/// headers. Whatever arrives, each returns a value or throws <see cref="S3Exception"/>; what the store's own writers
/// produce parses back to what was written; a range it serves lies inside the object.
/// </summary>
public sealed class S3ParsingPropertyTests
{
    private static readonly Gen<string> s_xmlish = Gen.OneOf(["<", ">", "</", "/>", "Delete", "Object", "Key", "Quiet", "=", "\"", "'", "&", "&amp;", "&#x1;", "&#0;", "&lt;", "<!DOCTYPE x [<!ENTITY e \"x\">]>", "&e;", "<?xml version=\"1.0\"?>", "<![CDATA[", "]]>", "<!--", "-->", "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"", " ", "a", "é", "\0", "\uFFFE"])
        .Array[0, 40].Select(parts => string.Concat(parts));

    private static readonly Gen<byte[]> s_body = Gen.Frequency(
        (1, Gen.Byte.Array[0, 300]),
        (3, s_xmlish.Select(Encoding.UTF8.GetBytes)));

    [Fact]
    public void AnyXmlBodyIsParsedOrRefusedAsMalformedXml() =>
        s_body.Sample(body =>
        {
            try
            {
                S3Xml.ReadAsync(new MemoryStream(body), 256, "Test", CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (S3Exception e)
            {
                Assert.Equal("MalformedXML", e.Code);
            }
        }, iter: 20000);

    /// <summary>XML 1.0 characters but carriage return (which XML parsers normalise to line feed by specification).</summary>
    private static readonly Gen<string> s_xmlText = Gen.Frequency(
            (6, Gen.Char[' ', '~']),
            (1, Gen.OneOf(['\t', '\n', 'é', '\u2603', '\uFFFD'])))
        .Array[0, 40].Select(c => new string(c));

    [Fact]
    public void WrittenXmlParsesBackToTheSameValues() =>
        s_xmlText.Array[1, 5].Sample(values =>
        {
            var xml = new S3Xml("Delete");
            foreach (var value in values)
            {
                xml.Open("Object").Element("Key", value).Close("Object");
            }

            var root = S3Xml.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(xml.Finish("Delete"))), 1 << 20, "Test", CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(values, root.Elements().Select(e => e.Elements().Single().Value));
        }, iter: 5000);

    [Fact]
    public void AnyQueryStringParses() =>
        Gen.Frequency(
                (1, Gen.String[0, 100]),
                (3, Gen.OneOf(["&", "=", "%", "%2", "%zz", "%C3", "%C3%A9", "%ED%A0%80", "%F0%9F%98%80", "+", "a", "max-keys", "1000", "prefix", "é", "😀"]).Array[0, 20].Select(parts => string.Concat(parts))))
            .Sample(raw => _ = S3Handler.ParseQuery(raw), iter: 20000);

    private static readonly Gen<string> s_queryText = Gen.OneOf(["a", "Z", "0", " ", "+", "%", "&", "=", "/", "?", "é", "😀", "-", "~"]).Array[0, 8].Select(parts => string.Concat(parts));

    [Fact]
    public void EncodedQueryParsesBackToItsParameters() =>
        Gen.Dictionary(s_queryText.Where(n => n.Length > 0), s_queryText)[0, 6].Sample(parameters =>
        {
            var raw = string.Join("&", parameters.Select(p => SigV4.UriEncode(p.Key, keepSlash: false) + "=" + SigV4.UriEncode(p.Value, keepSlash: false)));
            var parsed = S3Handler.ParseQuery(raw);
            Assert.Equal(parameters.OrderBy(p => p.Key, StringComparer.Ordinal), parsed.OrderBy(p => p.Key, StringComparer.Ordinal));
        }, iter: 5000);

    [Fact]
    public void RangeIsInsideTheObjectOrRefused() =>
        Gen.Select(
                Gen.Frequency(
                    (1, Gen.String[0, 40]),
                    (4, Gen.Select(Gen.OneOf(["bytes=", "BYTES=", "bytes= ", "items=", ""]), Gen.OneOf(["", "0", "1", "-", " ", "9", "10", "99999999999999999999", "9223372036854775807", "-0", "+1", ","]).Array[0, 5])
                        .Select((unit, parts) => unit + string.Concat(parts)))),
                Gen.Frequency((3, Gen.Long[0, 20]), (1, Gen.Long[0, long.MaxValue])))
            .Sample((header, size) =>
            {
                try
                {
                    if (RangeHeader.Parse(header, size) is var (offset, count))
                    {
                        Assert.True(offset >= 0 && count >= 1 && offset <= size - count, $"'{header}' on {size} bytes gave ({offset}, {count})");
                    }
                }
                catch (S3Exception e)
                {
                    Assert.Equal("InvalidRange", e.Code);
                }
            }, iter: 20000);
}
