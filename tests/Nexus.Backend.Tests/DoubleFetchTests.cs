// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Nexus.Backend.Services;
using Nexus.Channel;
using Nexus.Functions;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Double fetch (TOCTOU) on the request area (docs/threat-model.md, "Double fetch"): the sandbox keeps changing a
/// request's body in shared memory after submitting it, while the host checks and uses it. The generic path parses
/// the body for the tables it names, checks them against the function's grants, then signs and sends it; that is
/// safe only because all three use the one private copy <c>ChannelRequest.ReadBodyAsync</c> makes.
/// </summary>
public sealed class DoubleFetchTests : IAsyncLifetime
{
    private const string Granted = "granted";
    private const string Denied = "secrets"; // a valid table name of the same length, so torn names are valid names too (refused by the grant, not by the name check)
    private const int Requests = 300;

    private readonly ConcurrentBag<string> _tablesSent = [];
    private NodeUnderTest _node = null!;
    private StandInEndpoint _endpoint = null!;

    public async Task InitializeAsync()
    {
        _endpoint = new StandInEndpoint(RecordTableAsync);
        _node = await NodeUnderTest.StartAsync(configure: o => o with
        {
            Services = new Dictionary<string, ServiceEndpoint> { ["dynamodb"] = new() { Url = _endpoint.Url } },
        });
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _endpoint.DisposeAsync();
    }

    /// <summary>
    /// A racing writer flips the body's TableName between a granted and a denied table, byte by byte, for the whole
    /// run; the function submits the same GetItem again and again. Every request must either be refused (the copy the
    /// host took named, or tore into, a table outside the grant) or reach the service naming the granted table: the
    /// service must never see the denied table. Both outcomes must occur, or the race was not run. Checked once by
    /// sending the request from a second read of the region instead of the checked copy: the denied table reached the
    /// service and this failed.
    /// </summary>
    [Fact]
    public async Task A_body_changed_after_its_grant_check_never_reaches_the_service()
    {
        var manifest = NodeUnderTest.Manifest() with { Services = [new ServiceGrant("dynamodb", ["GetItem"], "table/" + Granted)] };
        var (channel, session) = _node.Attach(manifest: manifest);
        using var sandbox = new RawSandbox(channel);
        var header = Encoding.UTF8.GetBytes("""
            {"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/",
             "Headers":{"Content-Type":"application/x-amz-json-1.0","X-Amz-Target":"DynamoDB_20120810.GetItem"}}
            """);
        var body = Encoding.UTF8.GetBytes("{\"TableName\":\"" + Granted + "\",\"Key\":{\"pk\":{\"S\":\"a\"}}}");
        var offset = sandbox.WriteRequestBytes(0, [.. header, .. body]);
        var nameAt = (int)offset + header.Length + "{\"TableName\":\"".Length;

        using var stop = new CancellationTokenSource();
        var flipper = new Thread(() => Flip(sandbox, nameAt, stop.Token)) { IsBackground = true };
        flipper.Start();
        int allowed = 0, refused = 0;
        try
        {
            for (var id = 1UL; id <= Requests; id++)
            {
                sandbox.Submit(new ChannelRecord
                {
                    RequestId = id,
                    Op = ChannelOp.ServiceRequest,
                    Offset = offset,
                    Length = (uint)(header.Length + body.Length),
                    HeaderLength = (uint)header.Length,
                    TotalLength = (ulong)body.Length,
                    Slot = ChannelRecord.NoSlot,
                });
                var answer = await sandbox.NextCompletionAsync(TimeSpan.FromSeconds(30));
                Assert.True(answer is { } a && a.RequestId == id, $"request {id} was not answered: {session.CloseReason}");
                var status = answer!.Value.Status;
                Assert.True(status is 200 or 403, $"request {id}: status {status}, {sandbox.HeaderOf(answer.Value)}");
                _ = status == 200 ? allowed++ : refused++;
                if (answer.Value.Slot != ChannelRecord.NoSlot)
                {
                    sandbox.Release(answer.Value.Slot);
                }
            }
        }
        finally
        {
            stop.Cancel();
            flipper.Join();
        }

        Assert.DoesNotContain(Denied, _tablesSent);
        Assert.All(_tablesSent, t => Assert.Equal(Granted, t));
        Assert.True(allowed > 0 && refused > 0, $"the race did not run: {allowed} allowed, {refused} refused");
        Assert.Equal(allowed, _tablesSent.Count);
        Assert.Null(session.CloseReason);
    }

    // The sandbox's racing writer: one byte at a time, so the host also meets names torn between the two.
    private static void Flip(RawSandbox sandbox, int at, CancellationToken stop)
    {
        var names = new[] { Encoding.ASCII.GetBytes(Granted), Encoding.ASCII.GetBytes(Denied) };
        for (var turn = 0; !stop.IsCancellationRequested; turn ^= 1)
        {
            var name = names[turn];
            for (var i = 0; i < name.Length; i++)
            {
                Volatile.Write(ref sandbox.Region[at + i], name[i]);
            }
        }
    }

    // The service: records the table each request names, answers an empty item.
    private async Task RecordTableAsync(HttpListenerContext context)
    {
        using (var json = await JsonDocument.ParseAsync(context.Request.InputStream))
        {
            _tablesSent.Add(json.RootElement.GetProperty("TableName").GetString()!);
        }

        context.Response.ContentType = "application/x-amz-json-1.0";
        await context.Response.OutputStream.WriteAsync("{}"u8.ToArray());
    }
}
