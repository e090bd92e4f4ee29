using System.Globalization;
using System.Runtime.CompilerServices;
using Lethe.Labs;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lethe.Storage.Postgres;

/// The usage export as PostgreSQL writes it: <c>COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)</c>, the seed's
/// columns formatted in the SELECT, the bytes passed on as they arrive (LF turned into CRLF, the line end the
/// files have always had). Nothing is parsed or decoded on the way.
internal sealed class PostgresLabUsageCsv : ILabUsageCsvSource
{
    public async Task<LabUsageCsvStream> OpenAsync(LetheDb db, LabUsageQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(query);
        var sql = $"COPY ({Select(query)}) TO STDOUT (FORMAT csv, HEADER)";
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var reader = await connection.BeginTextExportAsync(sql, ct);
            // The text reader decodes UTF-8 into chars; the bytes underneath are what the file needs, and the
            // reader has not read ahead yet, so the raw copy stream is read directly and the reader only ends it.
            var raw = reader is StreamReader streamReader ? streamReader.BaseStream
                : throw new InvalidOperationException("Npgsql's text export reader is no longer a StreamReader.");
            return new PostgresCsvStream(db, reader, raw);
        }
        catch
        {
            await db.Database.CloseConnectionAsync();
            throw;
        }
    }

    /// The SELECT of one file. COPY takes no parameters, so values are literals: GUIDs and times formatted
    /// here, names quoted (resource names, validated on the way in, never user-typed SQL).
    public static string Select(LabUsageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        const string time = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";
        static string Utc(string column) => $"to_char({column} AT TIME ZONE 'UTC', {time})";
        var lab = $"""
            {Literal(query.SubscriptionId)} AS "SubscriptionId", {Literal(query.LabUId)} AS "LabUId", {Literal(query.LabName)} AS "LabName",
            {Literal(query.LabResourceId)} AS "LabResourceId", {Literal(query.ResourceGroupName)} AS "ResourceGroupName"
            """;
        var labId = Literal(query.LabId.ToString("D", CultureInfo.InvariantCulture));
        if (query.File == LabUsageFile.VirtualMachines)
        {
            return $"""
                SELECT {lab},
                  {Literal(query.VirtualMachinePrefix)} || v."Name" AS "ResourceId", v."Id"::text AS "ResourceUId", v."Name" AS "Name",
                  {Utc("v.\"CreatedAt\"")} AS "CreatedTime", {Utc("v.\"DeletedAt\"")} AS "DeletedDate",
                  v."OwnerObjectId"::text AS "ResourceOwner", NULLIF(v."PricingTier", '') AS "PricingTier",
                  CASE WHEN v."DeletedAt" IS NULL THEN 'Active' ELSE 'Inactive' END AS "ResourceStatus",
                  {Literal(query.ComputePrefix)} || v."Name" AS "ComputeResourceId",
                  CASE WHEN v."Claimable" THEN 'True' ELSE 'False' END AS "Claimable",
                  NULLIF(v."EnvironmentId", '') AS "EnvironmentId", {Utc("v.\"ExpirationDate\"")} AS "ExpirationDate",
                  NULLIF(v."ImageVersion", '') AS "GalleryImageReferenceVersion", NULLIF(v."ImageOffer", '') AS "GalleryImageReferenceOffer",
                  NULLIF(v."ImagePublisher", '') AS "GalleryImageReferencePublisher", NULLIF(v."ImageSku", '') AS "GalleryImageReferenceSku",
                  NULLIF(v."ImageOsType", '') AS "GalleryImageReferenceOsType", NULLIF(v."CustomImageId", '') AS "CustomImageId"
                FROM "LabVirtualMachines" v
                WHERE v."LabId" = {labId}::uuid AND v."CreatedAt" <= {Time(query.End)}{Window("v", query.Start)}
                ORDER BY v."CreatedAt", v."Id"
                """;
        }
        return $"""
            SELECT {lab},
              {Literal(query.DiskPrefix)} || d."Name" AS "ResourceId", d."Id"::text AS "ResourceUId", d."Name" AS "Name",
              {Utc("d.\"CreatedAt\"")} AS "CreatedTime", {Utc("d.\"DeletedAt\"")} AS "DeletedDate",
              CASE WHEN d."DeletedAt" IS NULL THEN 'Active' ELSE 'Inactive' END AS "ResourceStatus",
              NULLIF(d."BlobName", '') AS "DiskBlobName", d."SizeGb" AS "DiskSizeGB", d."DiskType" AS "DiskType",
              {Literal(query.VirtualMachinePrefix)} || v."Name" AS "LeasedByVmId"
            FROM "LabDisks" d LEFT JOIN "LabVirtualMachines" v ON v."Id" = d."LeasedByVmId"
            WHERE d."LabId" = {labId}::uuid AND d."CreatedAt" <= {Time(query.End)}{Window("d", query.Start)}
            ORDER BY d."CreatedAt", d."Id"
            """;
    }

    private static string Window(string alias, DateTimeOffset? start)
        => start is { } s ? $" AND ({alias}.\"DeletedAt\" IS NULL OR {alias}.\"DeletedAt\" >= {Time(s)})" : "";

    // Microseconds, truncated, as Npgsql sends a DateTimeOffset parameter.
    private static string Time(DateTimeOffset t)
        => "'" + t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture) + "'::timestamptz";

    private static string Literal(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A NUL character cannot be in a PostgreSQL literal.", nameof(value));
        }
        // standard_conforming_strings is on (the default since PostgreSQL 9.1): only quotes need doubling.
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private sealed class PostgresCsvStream(LetheDb db, TextReader reader, Stream copy) : LabUsageCsvStream
    {
        private readonly byte[] _in = new byte[1 << 16];
        private int _pos;
        private int _len;
        private CrLfState _state;
        private long _bytes;
        private bool _ended;
        private bool _disposed;

        public override long Rows => Math.Max(0, _state.Lines - 1);
        public override long Bytes => _bytes;

        // PostgreSQL sends COPY's output one row per message, and the copy stream returns one message per
        // read: each read here fills the caller's buffer from as many of them as fit, so the destination is
        // written in large pieces, not one small write per row.
        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                if (_pos == _len && !_state.PendingLf)
                {
                    if (_ended)
                    {
                        break;
                    }
                    _len = copy.Read(_in);
                    _pos = 0;
                    if (_len == 0)
                    {
                        _ended = true;
                        break;
                    }
                }
                total += Transform(buffer[total..]);
            }
            return total;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                if (_pos == _len && !_state.PendingLf)
                {
                    if (_ended)
                    {
                        break;
                    }
                    _len = await copy.ReadAsync(_in, cancellationToken);
                    _pos = 0;
                    if (_len == 0)
                    {
                        _ended = true;
                        break;
                    }
                }
                total += Transform(buffer.Span[total..]);
            }
            return total;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Transform(Span<byte> buffer)
        {
            var written = CrLf.Transform(_in.AsSpan(_pos, _len - _pos), buffer, ref _state, out var consumed);
            _pos += consumed;
            _bytes += written;
            return written;
        }

        public override async ValueTask DisposeAsync()
        {
            if (!_disposed)
            {
                _disposed = true;
                try
                {
                    reader.Dispose();
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            }
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                try
                {
                    reader.Dispose();
                }
                finally
                {
                    db.Database.CloseConnection();
                }
            }
            base.Dispose(disposing);
        }
    }
}

/// Where the CRLF transform is between two reads: inside a quoted field, a CR written whose LF is not yet.
internal struct CrLfState
{
    public bool Quoted;
    public bool PendingLf;
    public long Lines;
}

/// PostgreSQL ends CSV lines with LF; the export's files end them with CRLF (RFC 4180). An LF inside a quoted
/// field is data and stays; a doubled quote toggles the state twice, so tracking quotes alone is exact.
internal static class CrLf
{
    // Optimized from the first call (see SqliteLabUsageCsv's row loop): it runs once per COPY message.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Transform(ReadOnlySpan<byte> source, Span<byte> destination, ref CrLfState state, out int consumed)
    {
        var i = 0;
        var o = 0;
        if (state.PendingLf)
        {
            if (destination.IsEmpty)
            {
                consumed = 0;
                return 0;
            }
            destination[o++] = (byte)'\n';
            state.PendingLf = false;
        }
        while (i < source.Length && o < destination.Length)
        {
            var rest = source[i..];
            var special = state.Quoted ? rest.IndexOf((byte)'"') : rest.IndexOfAny((byte)'"', (byte)'\n');
            var plain = special < 0 ? rest.Length : special;
            var n = Math.Min(plain, destination.Length - o);
            rest[..n].CopyTo(destination[o..]);
            i += n;
            o += n;
            if (n < plain || special < 0 || o == destination.Length)
            {
                break;
            }
            if (source[i] == (byte)'"')
            {
                state.Quoted = !state.Quoted;
                destination[o++] = (byte)'"';
            }
            else
            {
                state.Lines++;
                destination[o++] = (byte)'\r';
                if (o < destination.Length)
                {
                    destination[o++] = (byte)'\n';
                }
                else
                {
                    state.PendingLf = true;
                }
            }
            i++;
        }
        consumed = i;
        return o;
    }
}
