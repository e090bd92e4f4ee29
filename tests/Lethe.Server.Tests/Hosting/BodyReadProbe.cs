using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Lethe.Server.Tests.Hosting;

/// Tells a test when the server has begun reading the body of a request it marked (header <see cref="Header"/>):
/// the request has come through the socket, past routing, authentication and authorization, and its endpoint is
/// binding the body. Installed first in the pipeline, only in servers started on Kestrel.
internal sealed class BodyReadProbe : IStartupFilter
{
    public const string Header = "X-Lethe-Test-Probe";

    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Reads = new(StringComparer.Ordinal);

    /// Completes when the server first reads the body of the request marked with <paramref name="key"/>.
    public static Task ReadingAsync(string key) => Of(key).Task;

    public static void Forget(string key) => Reads.TryRemove(key, out _);

    private static TaskCompletionSource Of(string key) => Reads.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, following) =>
        {
            if (context.Request.Headers.TryGetValue(Header, out var key) && key.ToString() is { Length: > 0 } marked)
            {
                context.Request.Body = new SignallingStream(context.Request.Body, Of(marked));
            }
            await following(context);
        });
        next(app);
    };

    private sealed class SignallingStream(Stream inner, TaskCompletionSource first) : Stream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            first.TrySetResult();
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            first.TrySetResult();
            return inner.Read(buffer, offset, count);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
