using System.IO.Compression;
using Lethe.Blobs;

namespace Lethe.Workspaces;

/// "Download all" of a job's outputs and logs, and a model version's download: a zip written straight
/// to the output stream (the HTTP response body) one blob at a time, never whole in memory.
/// ZipArchiveMode.Create works on a non-seekable stream (it writes data descriptors after each entry),
/// but it writes synchronously, which an ASP.NET Core response refuses. So the zip writes into a small
/// <see cref="Pump"/> that is drained to the output asynchronously after each block: memory stays bounded
/// by one block and the deflater, whatever the number and size of the blobs.
public static class ArtifactArchive
{
    public const int BlockSize = 81920;

    // Already-compressed content gains nothing from deflate and costs CPU.
    private static readonly HashSet<string> Stored = new(StringComparer.OrdinalIgnoreCase)
    {
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".pt", ".pth", ".onnx", ".parquet", ".pkl",
    };

    public static CompressionLevel LevelFor(string name)
        => Stored.Contains(Path.GetExtension(name)) ? CompressionLevel.NoCompression : CompressionLevel.Fastest;

    /// Whether deflate shrinks a sample by at least a tenth: random or already-compressed content does not,
    /// and deflating it only costs time (most of a large job's download time, docs/benchmarks.md).
    public static bool Compresses(ReadOnlySpan<byte> sample)
    {
        if (sample.Length < 4096)
        {
            return true;
        }
        // 16 KiB tell as much as the whole block, at a fifth of the cost; the output is counted, not kept.
        sample = sample[..Math.Min(sample.Length, 16384)];
        var counter = new CountingSink();
        using (var deflate = new DeflateStream(counter, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(sample);
        }
        return counter.Count < sample.Length * 9L / 10;
    }

    /// Every live blob under <paramref name="prefix"/>, each entry named by its path below the prefix.
    /// Returns the number of entries; <paramref name="progress"/> gets the bytes read so far.
    public static Task<int> WriteAsync(IBlobStore blobs, string container, string prefix, Stream output, IProgress<long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return WriteAsync(blobs, container, [prefix], prefix, output, progress, ct);
    }

    /// The job's outputs and logs (not its history document): what "Download all" gives.
    public static Task<int> WriteJobAsync(IBlobStore blobs, string container, string jobId, Stream output, IProgress<long>? progress, CancellationToken ct)
    {
        var folder = JobBlobs.Folder(jobId);
        return WriteAsync(blobs, container, [folder + "logs/", folder + "outputs/"], folder, output, progress, ct);
    }

    private static async Task<int> WriteAsync(IBlobStore blobs, string container, string[] prefixes, string strip, Stream output, IProgress<long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        ArgumentNullException.ThrowIfNull(output);
        var entries = 0;
        long copied = 0;
        var pump = new Pump();
        var buffer = new byte[BlockSize];
        using (var zip = new ZipArchive(pump, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var prefix in prefixes)
            {
                await foreach (var blob in blobs.ListAsync(container, prefix, ct))
                {
                    var name = blob.Name[strip.Length..];
                    await using (var source = await blobs.OpenReadAsync(container, blob.Name, ct))
                    {
                        // The first block decides whether deflate is worth its time for this entry.
                        var first = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
                        var level = LevelFor(name);
                        if (level != CompressionLevel.NoCompression && !Compresses(buffer.AsSpan(0, first)))
                        {
                            level = CompressionLevel.NoCompression;
                        }
                        var entry = zip.CreateEntry(name, level);
                        entry.LastWriteTime = blob.LastModified;
                        using var target = entry.Open();
                        var read = first;
                        while (read > 0)
                        {
                            target.Write(buffer, 0, read);
                            copied += read;
                            await pump.DrainAsync(output, ct);
                            read = await source.ReadAsync(buffer, ct);
                        }
                    }
                    await pump.DrainAsync(output, ct);
                    progress?.Report(copied);
                    entries++;
                }
            }
        }
        // The central directory, written when the archive is disposed.
        await pump.DrainAsync(output, ct);
        await output.FlushAsync(ct);
        return entries;
    }

    /// Takes the zip's synchronous writes into a buffer that the caller drains asynchronously.
    private sealed class Pump : Stream
    {
        private readonly MemoryStream _pending = new();
        private long _position;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _pending.Write(buffer, offset, count);
            _position += count;
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _pending.Write(buffer);
            _position += buffer.Length;
        }

        public async Task DrainAsync(Stream output, CancellationToken ct)
        {
            if (_pending.Length > 0)
            {
                await output.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
                _pending.SetLength(0);
            }
        }

        public override void Flush()
        {
            // Drained by the caller.
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _pending.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    private sealed class CountingSink : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Count;
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Count += count;
        public override void Write(ReadOnlySpan<byte> buffer) => Count += buffer.Length;
    }
}
