using System.IO.Pipelines;
using Lethe.Blobs;

namespace Lethe.Privacy.Requests;

/// Writes a blob from code that produces it (a zip, NDJSON) with memory bounded whatever its size: the producer writes
/// into a pipe whose other end the blob store reads. The store publishes the blob only once it is complete, so a
/// crash leaves nothing half-written visible.
internal static class BlobStreams
{
    // At most 4 MiB in flight between the producer and the store, in 256 KiB segments.
    private static readonly PipeOptions Bounded = new(pauseWriterThreshold: 4 << 20, resumeWriterThreshold: 2 << 20, minimumSegmentSize: 256 * 1024, useSynchronizationContext: false);

    /// The producer's result, and the size and lower-case hex SHA-256 of the blob as written (hashed on the store's
    /// side of the pipe, so on another core than the producer's work).
    public sealed record Written<T>(T Result, long Bytes, string Sha256);

    public static async Task<Written<T>> WriteAsync<T>(IBlobStore blobs, string container, string name, string contentType, Func<Stream, CancellationToken, Task<T>> produce, CancellationToken ct)
    {
        var pipe = new Pipe(Bounded);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = new HashingReadStream(pipe.Reader.AsStream());
        var consumer = Task.Run(() => blobs.PutAsync(container, name, reader, contentType, failed.Token), CancellationToken.None);
        T result;
        try
        {
            var writer = pipe.Writer.AsStream(leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                result = await produce(writer, failed.Token);
                await writer.FlushAsync(failed.Token);
            }
            await pipe.Writer.CompleteAsync();
        }
        catch (Exception e)
        {
            // The reader sees the error instead of an end: the store throws away what it has and publishes nothing.
            await pipe.Writer.CompleteAsync(e);
            await failed.CancelAsync();
            try
            {
                await consumer;
            }
#pragma warning disable CA1031 // The producer's error is the one that counts; the store's follows from it.
            catch (Exception)
            {
            }
#pragma warning restore CA1031
            throw;
        }
        await consumer;
        var written = new Written<T>(result, reader.Bytes, reader.Finish());
        await reader.DisposeAsync();
        return written;
    }
}
