// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Nexus.Store;

/// <summary>S3's XML bodies: a small escaping writer for responses and a hardened reader for requests.</summary>
internal sealed class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    private readonly StringBuilder _builder = new(512);

    public S3Xml(string root)
    {
        _builder.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<").Append(root).Append(" xmlns=\"").Append(Namespace).Append("\">");
    }

    public S3Xml Open(string name)
    {
        _builder.Append('<').Append(name).Append('>');
        return this;
    }

    /// <summary>Opens an element with attributes, given as written markup (constants only: they are not escaped).</summary>
    public S3Xml Open(string name, string attributes)
    {
        _builder.Append('<').Append(name).Append(' ').Append(attributes).Append('>');
        return this;
    }

    public S3Xml Close(string name)
    {
        _builder.Append("</").Append(name).Append('>');
        return this;
    }

    public S3Xml Element(string name, string? value)
    {
        _builder.Append('<').Append(name).Append('>');
        Escape(value);
        _builder.Append("</").Append(name).Append('>');
        return this;
    }

    public S3Xml Element(string name, long value)
    {
        _builder.Append('<').Append(name).Append('>').Append(value.ToString(CultureInfo.InvariantCulture)).Append("</").Append(name).Append('>');
        return this;
    }

    public S3Xml Element(string name, bool value) => Element(name, value ? "true" : "false");

    public S3Xml Element(string name, DateTimeOffset value) => Element(name, IsoDate(value));

    public string Finish(string root) => _builder.Append("</").Append(root).Append('>').ToString();

    public static string IsoDate(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string ErrorDocument(string code, string message, string resource, string requestId, IReadOnlyList<KeyValuePair<string, string>> details)
    {
        var xml = new StringBuilder(256).Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>").Append(code).Append("</Code><Message>");
        EscapeInto(xml, message);
        xml.Append("</Message>");
        foreach (var (name, value) in details)
        {
            xml.Append('<').Append(name).Append('>');
            EscapeInto(xml, value);
            xml.Append("</").Append(name).Append('>');
        }

        xml.Append("<Resource>");
        EscapeInto(xml, resource);
        return xml.Append("</Resource><RequestId>").Append(requestId).Append("</RequestId></Error>").ToString();
    }

    private void Escape(string? value) => EscapeInto(_builder, value);

    private static void EscapeInto(StringBuilder builder, string? value)
    {
        if (value is null)
        {
            return;
        }

        foreach (var c in value)
        {
            switch (c)
            {
                case '<': builder.Append("&lt;"); break;
                case '>': builder.Append("&gt;"); break;
                case '&': builder.Append("&amp;"); break;
                case '"': builder.Append("&quot;"); break;
                case '\'': builder.Append("&apos;"); break;
                default:
                    // XML 1.0 cannot carry most control characters even escaped; S3 clients use encoding-type=url for such keys.
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                    {
                        builder.Append("&#x").Append(((int)c).ToString("X", CultureInfo.InvariantCulture)).Append(';');
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }
    }

    /// <summary>Parses a request body of at most <paramref name="maxBytes"/> as XML with DTDs refused.</summary>
    public static async Task<XElement> ReadAsync(Stream body, int maxBytes, string operation, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw S3Errors.MalformedXml($"the {operation} body is larger than {maxBytes} bytes.");
            }

            buffer.Write(chunk, 0, n);
        }

        buffer.Position = 0;
        try
        {
            using var reader = XmlReader.Create(buffer, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            return XElement.Load(reader);
        }
        catch (XmlException e)
        {
            throw S3Errors.MalformedXml($"the {operation} body is not XML: {e.Message}");
        }
    }
}
