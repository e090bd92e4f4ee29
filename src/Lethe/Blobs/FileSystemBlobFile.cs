using System.Buffers.Binary;
using System.Text;

namespace Lethe.Blobs;

/// How the file-system backend stores one blob: a small header with its properties, then the content, in
/// one file. One file means one rename publishes content and properties together, so a reader sees the
/// old blob or the new one, never a mix.
///
/// Header: "LETHEBLB", format version (1 byte), last-modified UTC ticks (8 bytes, little-endian),
/// content-type length (2 bytes, little-endian), content type (ASCII).
internal static class FileSystemBlobFile
{
    private const byte Version = 1;
    private const int FixedLength = 8 + 1 + 8 + 2;
    private const int LastModifiedOffset = 9;

    private static ReadOnlySpan<byte> Magic => "LETHEBLB"u8;

    internal sealed record Header(DateTimeOffset LastModified, string ContentType, int Length);

    /// The header of a blob being written; its time is set by <see cref="WriteLastModifiedAsync"/> once the
    /// content is complete, so that it tells when the blob was published, not when the upload began.
    public static byte[] Encode(string contentType)
    {
        var type = Encoding.ASCII.GetBytes(contentType);
        var header = new byte[FixedLength + type.Length];
        Magic.CopyTo(header);
        header[8] = Version;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(17), (ushort)type.Length);
        type.CopyTo(header.AsSpan(FixedLength));
        return header;
    }

    public static async Task WriteLastModifiedAsync(FileStream file, DateTimeOffset lastModified, CancellationToken ct)
    {
        var ticks = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(ticks, lastModified.UtcTicks);
        await RandomAccess.WriteAsync(file.SafeFileHandle, ticks, LastModifiedOffset, ct);
    }

    public static async Task<Header> ReadAsync(FileStream file, CancellationToken ct)
    {
        var fixedPart = new byte[FixedLength];
        await file.ReadExactlyAsync(fixedPart, ct);
        if (!fixedPart.AsSpan(0, 8).SequenceEqual(Magic) || fixedPart[8] != Version)
        {
            // Loud on purpose: a blob that cannot be read must not silently drop out of exports and erasures.
            throw new InvalidDataException("A file in the blob store's folder is not a blob written by Lethe.");
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(fixedPart.AsSpan(LastModifiedOffset));
        var type = new byte[BinaryPrimitives.ReadUInt16LittleEndian(fixedPart.AsSpan(17))];
        await file.ReadExactlyAsync(type, ct);
        return new Header(new DateTimeOffset(ticks, TimeSpan.Zero), Encoding.ASCII.GetString(type), FixedLength + type.Length);
    }
}

/// A blob's content: its file past the header, read-only and seekable. The file is never changed in place
/// (a put replaces it by a rename), so an open stream keeps reading the version it opened.
internal sealed class FileSystemBlobContent(FileStream file, long offset) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => file.CanSeek;

    public override bool CanWrite => false;

    public override long Length => file.Length - offset;

    public override long Position
    {
        get => file.Position - offset;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            file.Position = value + offset;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => file.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => file.Read(buffer);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => file.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => file.ReadAsync(buffer, cancellationToken);

    public override Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
        => file.CopyToAsync(destination, bufferSize, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        Position = target;
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await file.DisposeAsync();
        await base.DisposeAsync();
    }
}
