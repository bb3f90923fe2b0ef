// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Channel.Services;
using Nexus.Node.Transports.NexusChannel;

namespace Nexus.Node.Tests;

/// <summary>
/// The result header a sandbox writes with every answer (<see cref="ResultHeader"/>): it is the sandbox's, so every
/// malformed or hostile form must fail that request with 400 and nothing else, and the reader without a document must
/// accept and refuse exactly what the document-based reading it replaced did.
/// </summary>
public sealed class ResultHeaderTests
{
    [Fact]
    public void The_runtimes_header_is_read()
    {
        // As Python's json.dumps writes it, spaces included.
        var header = Parse("""{"RequestId": "c0ffee", "Next": true, "PickedUpNs": 123456789012, "SubmittedNs": 123456789999}""");
        Assert.Equal(new ResultHeader("c0ffee", true, 123456789012, 123456789999), header);
        Assert.Equal(new ResultHeader("r", false, null, null), Parse("""{"RequestId":"r"}"""));
        Assert.Equal(new ResultHeader("r", false, null, null), Parse("""{"RequestId":"r","Next":null,"PickedUpNs":null,"SubmittedNs":null}"""));
        Assert.Equal(new ResultHeader("r", false, -1, 0), Parse("""{"Next":false,"PickedUpNs":-1,"SubmittedNs":0,"RequestId":"r"}"""));
    }

    [Fact]
    public void Names_and_strings_are_read_unescaped_and_other_properties_are_skipped()
    {
        var header = Parse("""{"x":{"a":[1,2,{"b":null}]},"Request\u0049d":"a\"b\u00e9","y":"RequestId","Next":true}""");
        Assert.Equal("a\"b\u00e9", header.RequestId);
        Assert.True(header.Next);
    }

    [Fact]
    public void Of_a_property_given_twice_the_last_counts()
    {
        Assert.Equal("second", Parse("""{"RequestId":"first","RequestId":"second"}""").RequestId);
        Assert.Equal("ok", Parse("""{"RequestId":5,"RequestId":"ok"}""").RequestId);
        Assert.Equal(2, Parse("""{"RequestId":"r","PickedUpNs":"x","PickedUpNs":2}""").PickedUpNs);
        Assert.Contains("must be a string", Refused("""{"RequestId":"ok","RequestId":5}"""), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "missing required parameter RequestId")]
    [InlineData("{}", "missing required parameter RequestId")]
    [InlineData("""{"requestid":"lowercase"}""", "missing required parameter RequestId")]
    [InlineData("""{"RequestId":null}""", "parameter RequestId must be a string, got Null")]
    [InlineData("""{"RequestId":7}""", "parameter RequestId must be a string, got Number")]
    [InlineData("""{"RequestId":{"a":1}}""", "parameter RequestId must be a string, got Object")]
    [InlineData("""{"RequestId":["r"]}""", "parameter RequestId must be a string, got Array")]
    [InlineData("""{"RequestId":true}""", "parameter RequestId must be a string, got True")]
    [InlineData("""{"RequestId":"r","Next":"true"}""", "parameter Next must be a boolean")]
    [InlineData("""{"RequestId":"r","Next":1}""", "parameter Next must be a boolean")]
    [InlineData("""{"RequestId":"r","PickedUpNs":1.5}""", "parameter PickedUpNs must be a 64-bit integer")]
    [InlineData("""{"RequestId":"r","PickedUpNs":1e3}""", "parameter PickedUpNs must be a 64-bit integer")]
    [InlineData("""{"RequestId":"r","PickedUpNs":"12"}""", "parameter PickedUpNs must be a 64-bit integer")]
    [InlineData("""{"RequestId":"r","SubmittedNs":9223372036854775808}""", "parameter SubmittedNs must be a 64-bit integer")]
    [InlineData("""{"RequestId":"r","SubmittedNs":[1]}""", "parameter SubmittedNs must be a 64-bit integer")]
    [InlineData("""{"RequestId":"r","Next":2,"PickedUpNs":"x"}""", "parameter Next must be a boolean")]
    [InlineData("\"r\"", "request parameters must be a JSON object")]
    [InlineData("[{\"RequestId\":\"r\"}]", "request parameters must be a JSON object")]
    [InlineData("null", "request parameters must be a JSON object")]
    public void A_header_that_breaks_a_rule_fails_its_request_with_400_naming_the_rule(string json, string message)
    {
        Assert.Equal(message, Refused(json));
    }

    [Theory]
    [InlineData("""{"RequestId":"r"}x""")]
    [InlineData("""{"RequestId":"r"}{}""")]
    [InlineData("""{"RequestId":"r"} {"RequestId":"s"}""")]
    [InlineData("""{"RequestId":"r",}""")]
    [InlineData("""{"RequestId":"r" """)]
    [InlineData("""{"RequestId":"r"/* c */}""")]
    [InlineData("""{'RequestId':'r'}""")]
    [InlineData("""{"RequestId":"r\q"}""")]
    [InlineData("   ")]
    [InlineData("\"r\" x")]
    public void A_header_that_is_not_one_json_value_fails_as_not_json(string json)
    {
        Assert.StartsWith("request header is not valid JSON", Refused(json), StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_past_16_levels_is_refused_and_16_are_read()
    {
        string Nested(int depth) => """{"RequestId":"r","x":""" + string.Concat(Enumerable.Repeat("[", depth - 1)) + string.Concat(Enumerable.Repeat("]", depth - 1)) + "}";
        Assert.Equal("r", Parse(Nested(16)).RequestId);
        Assert.StartsWith("request header is not valid JSON", Refused(Nested(17)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_request_id_that_is_not_utf8_is_refused_not_an_internal_error()
    {
        byte[] header = [.. """{"RequestId":" """u8[..^1], 0xC3, 0x28, .. "\"}"u8];
        var e = Assert.Throws<ChannelRequestException>(() => ResultHeader.Parse(header));
        Assert.Equal(400, e.Status);
    }

    /// <summary>
    /// Differential: seeded random corruptions of real headers (bytes replaced, cut, duplicated, spliced) give the same
    /// answer as the document-based reading (JsonDocument + ChannelJson), which it replaced on the invoke path: the same
    /// values, or a refusal of both with the same message where that message is the project's own (a JSON syntax error's
    /// text is the parser's).
    /// </summary>
    [Fact]
    public void Corrupted_headers_get_the_answer_the_document_based_reading_gave()
    {
        string[] seeds =
        [
            """{"RequestId": "0a1b2c3d-aaaa-bbbb-cccc-0123456789ab", "Next": true, "PickedUpNs": 1234567890123, "SubmittedNs": 1234567899999}""",
            """{"RequestId":"r","Next":false}""",
            """{"x":[{"y":"z"}],"RequestId":"r","PickedUpNs":-5,"RequestId":"s"}""",
            """{"RequestId":null,"Next":null}""",
        ];
        byte[] alphabet = [.. "{}[]\":,. -0123456789eE+tfnruelsaxRIqNkP\\/\u0000\t"u8, 0xC3, 0xFF];
        var random = new Random(15);
        var compared = 0;
        var accepted = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(seeds[random.Next(seeds.Length)]).ToList();
            for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(4))
                {
                    case 0:
                        bytes[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    case 1:
                        bytes.RemoveRange(at, random.Next(1, Math.Min(8, bytes.Count - at) + 1));
                        break;
                    case 2:
                        bytes.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                    default:
                        bytes.InsertRange(at, bytes.GetRange(at, Math.Min(random.Next(1, 20), bytes.Count - at)));
                        break;
                }
            }

            var header = bytes.ToArray();
            var expected = ByDocument(header);
            var actual = ByReader(header);
            compared++;
            if (expected.Header is { } value)
            {
                accepted++;
                Assert.True(value == actual.Header, $"{Encoding.UTF8.GetString(header)}: document read {value}, reader {actual.Header}{actual.Message}");
            }
            else
            {
                Assert.True(actual.Header is null, $"{Encoding.UTF8.GetString(header)}: document refused ({expected.Message}), reader read {actual.Header}");
                if (!expected.Message!.StartsWith("request header is not valid JSON", StringComparison.Ordinal))
                {
                    Assert.Equal(expected.Message, actual.Message);
                }
            }
        }

        // The corpus must exercise both answers, or it proves little.
        Assert.InRange(accepted, compared / 50, compared - (compared / 50));
    }

    private static ResultHeader Parse(string json) => ResultHeader.Parse(Encoding.UTF8.GetBytes(json));

    private static string Refused(string json)
    {
        var e = Assert.Throws<ChannelRequestException>(() => Parse(json));
        Assert.Equal(400, e.Status);
        return e.Message;
    }

    private static (ResultHeader? Header, string? Message) ByReader(byte[] header)
    {
        try
        {
            return (ResultHeader.Parse(header), null);
        }
        catch (ChannelRequestException e) when (e.Status == 400)
        {
            return (null, e.Message);
        }
    }

    // The reading ResultHeader replaced: ChannelRequest.ReadParametersAsync and the ChannelJson helpers.
    private static (ResultHeader? Header, string? Message) ByDocument(byte[] header)
    {
        try
        {
            JsonDocument doc;
            try
            {
                doc = header.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
            }
            catch (JsonException e)
            {
                throw ChannelRequestException.Invalid($"request header is not valid JSON: {e.Message}");
            }

            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw ChannelRequestException.Invalid("request parameters must be a JSON object");
                }

                var root = doc.RootElement;
                return (new ResultHeader(
                    ChannelJson.RequiredString(root, "RequestId"),
                    ChannelJson.OptionalBool(root, "Next"),
                    ChannelJson.OptionalInt64(root, "PickedUpNs"),
                    ChannelJson.OptionalInt64(root, "SubmittedNs")), null);
            }
        }
        catch (ChannelRequestException e)
        {
            return (null, e.Message);
        }
        catch (InvalidOperationException e)
        {
            // A string that is not UTF-8: the document-based reading failed with an internal error here.
            return (null, "request header is not valid JSON: " + e.Message);
        }
    }
}
