using System.Globalization;

namespace Lethe.Labs;

/// One file of a usage export as the database writes it. The database formats the seed's columns itself
/// (PostgreSQL's <c>COPY … (FORMAT csv)</c>, a SQLite statement stepped in place): no entity is
/// materialized and no row object is built, so an export runs at about the database's own speed.
/// Two real implementations, one per provider (Lethe.Storage.Postgres, Lethe.Storage.Sqlite).
public interface ILabUsageCsvSource
{
    /// A readable stream of the whole CSV (header first, RFC 4180, CRLF line ends), produced while it is read.
    /// The caller reads it to its end, then disposes it.
    Task<LabUsageCsvStream> OpenAsync(LetheDb db, LabUsageQuery query, CancellationToken ct);
}

public enum LabUsageFile
{
    VirtualMachines,
    Disks,
}

/// A usage-export file being produced: read-only, forward-only; <see cref="Rows"/> and <see cref="Bytes"/>
/// count what has been read so far (all of it once the end is reached).
public abstract class LabUsageCsvStream : Stream
{
    /// Data rows written, the header not counted.
    public abstract long Rows { get; }

    public abstract long Bytes { get; }

    public sealed override bool CanRead => true;
    public sealed override bool CanSeek => false;
    public sealed override bool CanWrite => false;
    public sealed override long Length => throw new NotSupportedException();

    public sealed override long Position
    {
        get => Bytes;
        set => throw new NotSupportedException();
    }

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public sealed override void SetLength(long value) => throw new NotSupportedException();
    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public sealed override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
}

/// What one export file holds: the lab's constant columns, already formatted, and the window.
/// The decision of what goes in each column lives here and in <see cref="LabUsageRows"/>; the providers only
/// say it in their SQL.
public sealed record LabUsageQuery
{
    public required LabUsageFile File { get; init; }
    public required Guid LabId { get; init; }
    public required string SubscriptionId { get; init; }
    public required string LabUId { get; init; }
    public required string LabName { get; init; }
    public required string LabResourceId { get; init; }
    public required string ResourceGroupName { get; init; }

    /// <c>{lab}/virtualmachines/</c>: a VM's ResourceId, and a disk's LeasedByVmId, is this plus the VM's name.
    public required string VirtualMachinePrefix { get; init; }

    /// <c>{lab}/disks/</c>.
    public required string DiskPrefix { get; init; }

    /// The Microsoft.Compute VM behind a lab VM is this plus the VM's name.
    public required string ComputePrefix { get; init; }

    public DateTimeOffset? Start { get; init; }
    public required DateTimeOffset End { get; init; }

    public static LabUsageQuery For(Lab lab, LabUsageFile file, DateTimeOffset? start, DateTimeOffset end)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var labId = lab.ResourceId.Value;
        var compute = LabNames.ComputeResourceId(lab, "x");
        return new LabUsageQuery
        {
            File = file,
            LabId = lab.Id,
            SubscriptionId = lab.SubscriptionId.ToString("D", CultureInfo.InvariantCulture),
            LabUId = lab.Id.ToString("D", CultureInfo.InvariantCulture),
            LabName = lab.Name,
            LabResourceId = labId,
            ResourceGroupName = lab.ResourceGroup,
            VirtualMachinePrefix = labId + "/virtualmachines/",
            DiskPrefix = labId + "/disks/",
            ComputePrefix = compute[..^1],
            Start = start,
            End = end,
        };
    }

    /// The header of the file: seed 002's column names, in its order.
    public IReadOnlyList<string> Columns => File == LabUsageFile.VirtualMachines ? LabUsageRows.VirtualMachineColumns : LabUsageRows.DiskColumns;
}
