// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Channel.Services;

namespace Nexus.Backend.Storage;

/// <summary>
/// Retries for a storage call whose body is read once out of the shared region, which the SDK cannot rewind and so
/// never retries: a put failed at once when storage refused a connection for a moment (a restart), where botocore in a
/// baseline sandbox would have retried (an operator's review). A part, whose body the SDK can rewind, gets these on top
/// of the SDK's own retries, which one CI run saw not happen (a part refused at once; why is not known). A call whose
/// connection failed before a byte of its body was read is sent again, nothing having been read that could differ the
/// second time; up to <see cref="MaxRetries"/> times, the pauses doubling from 0.25 s with equal jitter (each between
/// half and all of its step: 0.9 to 3.75 s in all, as botocore's attempts span). Storage still unreachable is
/// ServiceUnavailable, its address and socket error staying on the host.
/// </summary>
internal static class UnsentBodyRetry
{
    public const int MaxRetries = 4;

    public static async Task<T> SendAsync<T>(Func<Task<T>> send, Stream body, string operation, CancellationToken ct)
    {
        for (var retry = 0; ; retry++)
        {
            try
            {
                return await send().ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError && body.Position == 0)
            {
                if (retry == MaxRetries)
                {
                    throw new ChannelRequestException(503, "ServiceUnavailable", $"the node could not reach storage; {operation} was not sent");
                }

                var step = TimeSpan.FromSeconds(0.25 * (1 << retry));
                await Task.Delay(step * (0.5 + (Random.Shared.NextDouble() / 2)), ct).ConfigureAwait(false);
            }
        }
    }
}
