// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Channel.Services;

namespace Nexus.Channel.Tests;

/// <summary>
/// <see cref="ChannelJson.Write"/> reuses one buffer and writer per thread: each message must still come out whole and
/// independent of the next, also when a callback writes a message itself or throws half-way.
/// </summary>
public sealed class ChannelJsonTests
{
    [Fact]
    public void Messages_written_one_after_another_do_not_share_bytes()
    {
        var first = ChannelJson.Write(w => ChannelJson.WriteError(w, "NoSuchKey", new string('x', 1000)));
        var second = ChannelJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("A", "b");
            w.WriteEndObject();
        });

        Assert.Equal("""{"A":"b"}""", Encoding.UTF8.GetString(second));
        Assert.StartsWith("""{"Error":{"Code":"NoSuchKey","Message":"xxx""", Encoding.UTF8.GetString(first), StringComparison.Ordinal);
        Assert.EndsWith("""xx"}}""", Encoding.UTF8.GetString(first), StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_written_inside_another_comes_out_whole_and_so_does_the_outer_one()
    {
        byte[]? inner = null;
        var outer = ChannelJson.Write(w =>
        {
            w.WriteStartObject();
            inner = ChannelJson.Write(i => ChannelJson.WriteError(i, "Inner", "m"));
            w.WriteString("Outer", "o");
            w.WriteEndObject();
        });

        Assert.Equal("""{"Outer":"o"}""", Encoding.UTF8.GetString(outer));
        Assert.Equal("""{"Error":{"Code":"Inner","Message":"m"}}""", Encoding.UTF8.GetString(inner!));
    }

    [Fact]
    public void A_callback_that_throws_half_way_leaves_nothing_for_the_next_message()
    {
        Assert.Throws<InvalidOperationException>(() => ChannelJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("Half", "way");
            throw new InvalidOperationException("boom");
        }));

        var next = ChannelJson.Write(w =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        });
        Assert.Equal("[]", Encoding.UTF8.GetString(next));
    }

    [Fact]
    public void An_object_array_writes_one_object_per_item_and_an_empty_array_for_none()
    {
        var json = ChannelJson.Write(w =>
        {
            w.WriteStartObject();
            ChannelJson.WriteObjectArray(w, "Tags", new[] { ("a", "1"), ("b", "2") }, static (w, tag) =>
            {
                w.WriteString("Key", tag.Item1);
                w.WriteString("Value", tag.Item2);
            });
            ChannelJson.WriteObjectArray(w, "None", Array.Empty<string>(), static (w, s) => w.WriteString("S", s));
            w.WriteEndObject();
        });

        Assert.Equal("""{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}],"None":[]}""", Encoding.UTF8.GetString(json));
    }

    /// <summary>
    /// <see cref="ChannelJson.ErrorType"/> reads a sandbox's error body in one pass: the errorType of a JSON object, or
    /// nothing for anything else (the result is then reported as unhandled), never an exception. With the read to the
    /// end removed once, the body with trailing bytes gave "A" and this failed.
    /// </summary>
    [Theory]
    [InlineData("""{"errorMessage":"m","errorType":"ValueError","stackTrace":["a","b"]}""", "ValueError")]
    [InlineData("""{"errorType":"A","errorType":"B"}""", "B")]
    [InlineData("""{"errorType":"A","errorType":7}""", null)]
    [InlineData("""{"x":{"errorType":"Nested"}}""", null)]
    [InlineData("""{"error\u0054ype":"Escaped"}""", "Escaped")]
    [InlineData("""{"errorType":"A"} trailing""", null)]
    [InlineData("""{"errorType":"A"}{}""", null)]
    [InlineData("""{"errorType":"A",""", null)]
    [InlineData("""["errorType","A"]""", null)]
    [InlineData("""  "ValueError" """, null)]
    [InlineData("", null)]
    [InlineData("not json", null)]
    public void The_error_type_is_read_from_an_error_body_or_is_absent(string body, string? expected)
    {
        Assert.Equal(expected, ChannelJson.ErrorType(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void An_error_body_nested_past_16_levels_or_not_utf8_has_no_error_type()
    {
        var deep = """{"errorType":"A","x":""" + new string('[', 16) + new string(']', 16) + "}";
        Assert.Null(ChannelJson.ErrorType(Encoding.UTF8.GetBytes(deep)));
        Assert.Equal("A", ChannelJson.ErrorType(Encoding.UTF8.GetBytes(deep.Replace("[]", "", StringComparison.Ordinal))));
        byte[] notUtf8 = [.. """{"errorType":" """u8[..^1], 0xC3, 0x28, .. "\"}"u8];
        Assert.Null(ChannelJson.ErrorType(notUtf8));
    }
}
