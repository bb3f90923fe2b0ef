// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Interop;

namespace Nexus.Benchmarks;

/// <summary>
/// A runtime that answers at once, in C# on its own thread, speaking invocation protocol v2 (docs/channel.md) over the
/// descriptors a sandbox process is handed: it parks a NextInvocation, and answers every pushed event with
/// <c>{}</c> posted with <c>"Next": true</c>. What a benchmark over it measures is the node's path, not a handler's.
/// </summary>
internal sealed class RuntimeEnd
{
    private static readonly byte[] s_result = "{}"u8.ToArray();

    private readonly SandboxEnd _end;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _nextId;
    private int _extent;

    private RuntimeEnd(IReadOnlyList<SafeHandle> fds, ChannelLayout layout)
    {
        _end = new SandboxEnd((SafeFd)fds[0], EventFd.Adopt((SafeFd)fds[1]), EventFd.Adopt((SafeFd)fds[2]), layout);
        _thread = new Thread(Run) { IsBackground = true, Name = "benchmark runtime" };
        _thread.Start();
    }

    /// <summary>Completes when the host closed the channel and the loop ended (its mapping is gone then).</summary>
    public Task Exited => _exited.Task;

    /// <summary>Starts a runtime on its own thread; it runs until the host closes the channel.</summary>
    /// <param name="fds">The region's memfd and the two doorbells, in the order a sandbox gets them (fd 3, 4, 5).</param>
    /// <param name="layout">The region's layout (the host's options).</param>
    public static RuntimeEnd Start(IReadOnlyList<SafeHandle> fds, ChannelLayout layout) => new(fds, layout);

    private void Run()
    {
        try
        {
            Submit(ChannelOp.NextInvocation, "{}"u8, []);
            while (true)
            {
                var completion = _end.NextCompletion();
                if (completion.Slot == ChannelRecord.NoSlot)
                {
                    continue;
                }

                var requestId = ReadRequestId(_end.Chunk(completion)[..(int)completion.HeaderLength]);
                _end.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = completion.Slot }, ring: false);
                var header = Encoding.UTF8.GetBytes($$"""{"RequestId":"{{requestId}}","Next":true}""");
                Submit(ChannelOp.InvocationResponse, header, s_result);
            }
        }
        catch (ChannelClosedException)
        {
            _exited.TrySetResult();
        }
        catch (Exception e)
        {
            _exited.TrySetException(e);
        }
        finally
        {
            _end.Dispose();
        }
    }

    // Each request gets its own slot-sized extent of the request area, two in turn: the one in flight stays the host's
    // until its completion (the next event), so the next result goes into the other one.
    private void Submit(ChannelOp op, ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        var offset = _end.Layout.RequestAreaOffset + ((long)_extent * _end.Layout.SlotSize);
        _extent ^= 1;
        _end.SubmitRequest(++_nextId, op, offset, header, body);
    }

    private static string ReadRequestId(ReadOnlySpan<byte> header)
    {
        var reader = new Utf8JsonReader(header);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("RequestId"u8))
            {
                reader.Read();
                return reader.GetString()!;
            }
        }

        throw new InvalidDataException("the event's header has no RequestId");
    }
}
