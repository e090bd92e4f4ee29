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
                    var entry = zip.CreateEntry(name, LevelFor(name));
                    entry.LastWriteTime = blob.LastModified;
                    await using (var source = await blobs.OpenReadAsync(container, blob.Name, ct))
                    using (var target = entry.Open())
                    {
                        int read;
                        while ((read = await source.ReadAsync(buffer, ct)) > 0)
                        {
                            target.Write(buffer, 0, read);
                            copied += read;
                            await pump.DrainAsync(output, ct);
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
}
