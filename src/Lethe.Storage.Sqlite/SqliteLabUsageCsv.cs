using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Lethe.Labs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

namespace Lethe.Storage.Sqlite;

/// The usage export as SQLite writes it: one statement formats the seed's columns (the same SELECT that
/// <c>sqlite3 -csv</c> runs in the benchmark), stepped in place on the connection's own handle; each column's
/// UTF-8 bytes go from SQLite's memory to the output buffer with RFC 4180 quoting. No string per value, no row object.
internal sealed class SqliteLabUsageCsv : ILabUsageCsvSource
{
    public async Task<LabUsageCsvStream> OpenAsync(LetheDb db, LabUsageQuery query, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(query);
        var sql = Select(query);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var handle = ((SqliteConnection)db.Database.GetDbConnection()).Handle!;
            Check(handle, raw.sqlite3_prepare_v2(handle, sql, out var statement));
            // Raw SQL bypasses the value converters: times go in as the model stores them (see LetheDb).
            var converter = db.Model.FindEntityType(typeof(LabVirtualMachine))!.FindProperty(nameof(LabVirtualMachine.CreatedAt))!.GetTypeMapping().Converter!;
            Check(handle, raw.sqlite3_bind_text(statement, 1, query.LabId.ToString("D", CultureInfo.InvariantCulture).ToUpperInvariant()));
            Check(handle, raw.sqlite3_bind_int64(statement, 2, (long)converter.ConvertToProvider(query.End)!));
            Check(handle, query.Start is { } start
                ? raw.sqlite3_bind_int64(statement, 3, (long)converter.ConvertToProvider(start)!)
                : raw.sqlite3_bind_null(statement, 3));
            return new SqliteCsvStream(db, handle, statement, query.Columns);
        }
        catch
        {
            await db.Database.CloseConnectionAsync();
            throw;
        }
    }

    /// The SELECT of one file, with the lab's constant columns as literals so that the benchmark's
    /// <c>sqlite3</c> baseline can run the very same text (with ?1 = the lab's ID in upper case, as EF stores
    /// GUIDs; ?2 and ?3 = the window's end and start in the stored form of a DateTimeOffset).
    public static string Select(LabUsageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var lab = $"""
            {Literal(query.SubscriptionId)} AS "SubscriptionId", {Literal(query.LabUId)} AS "LabUId", {Literal(query.LabName)} AS "LabName",
            {Literal(query.LabResourceId)} AS "LabResourceId", {Literal(query.ResourceGroupName)} AS "ResourceGroupName"
            """;
        if (query.File == LabUsageFile.VirtualMachines)
        {
            return $"""
                SELECT {lab},
                  {Literal(query.VirtualMachinePrefix)} || v."Name" AS "ResourceId", lower(v."Id") AS "ResourceUId", v."Name" AS "Name",
                  {Utc("v.\"CreatedAt\"")} AS "CreatedTime", {Utc("v.\"DeletedAt\"")} AS "DeletedDate",
                  lower(v."OwnerObjectId") AS "ResourceOwner", NULLIF(v."PricingTier", '') AS "PricingTier",
                  CASE WHEN v."DeletedAt" IS NULL THEN 'Active' ELSE 'Inactive' END AS "ResourceStatus",
                  {Literal(query.ComputePrefix)} || v."Name" AS "ComputeResourceId",
                  CASE WHEN v."Claimable" THEN 'True' ELSE 'False' END AS "Claimable",
                  NULLIF(v."EnvironmentId", '') AS "EnvironmentId", {Utc("v.\"ExpirationDate\"")} AS "ExpirationDate",
                  NULLIF(v."ImageVersion", '') AS "GalleryImageReferenceVersion", NULLIF(v."ImageOffer", '') AS "GalleryImageReferenceOffer",
                  NULLIF(v."ImagePublisher", '') AS "GalleryImageReferencePublisher", NULLIF(v."ImageSku", '') AS "GalleryImageReferenceSku",
                  NULLIF(v."ImageOsType", '') AS "GalleryImageReferenceOsType", NULLIF(v."CustomImageId", '') AS "CustomImageId"
                FROM "LabVirtualMachines" v
                WHERE v."LabId" = ?1 AND v."CreatedAt" <= ?2 AND (?3 IS NULL OR v."DeletedAt" IS NULL OR v."DeletedAt" >= ?3)
                ORDER BY v."CreatedAt", v."Id"
                """;
        }
        return $"""
            SELECT {lab},
              {Literal(query.DiskPrefix)} || d."Name" AS "ResourceId", lower(d."Id") AS "ResourceUId", d."Name" AS "Name",
              {Utc("d.\"CreatedAt\"")} AS "CreatedTime", {Utc("d.\"DeletedAt\"")} AS "DeletedDate",
              CASE WHEN d."DeletedAt" IS NULL THEN 'Active' ELSE 'Inactive' END AS "ResourceStatus",
              NULLIF(d."BlobName", '') AS "DiskBlobName", d."SizeGb" AS "DiskSizeGB", d."DiskType" AS "DiskType",
              {Literal(query.VirtualMachinePrefix)} || v."Name" AS "LeasedByVmId"
            FROM "LabDisks" d LEFT JOIN "LabVirtualMachines" v ON v."Id" = d."LeasedByVmId"
            WHERE d."LabId" = ?1 AND d."CreatedAt" <= ?2 AND (?3 IS NULL OR d."DeletedAt" IS NULL OR d."DeletedAt" >= ?3)
            ORDER BY d."CreatedAt", d."Id"
            """;
    }

    /// A DateTimeOffset as EF's binary converter stores it (local ticks / 1000 above 11 bits of offset minutes),
    /// to the second in UTC (the offset's 11 bits sign-extended). Integer arithmetic truncates, as the seed's format did.
    private static string Utc(string column)
        => $"strftime('%Y-%m-%dT%H:%M:%SZ', ({column} >> 11) / 10000 - 62135596800 - (((({column} & 2047) + 1024) % 2048 - 1024) * 60), 'unixepoch')";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Check(sqlite3 handle, int result)
    {
        if (result is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            throw new SqliteException(raw.sqlite3_errmsg(handle).utf8_to_string(), result);
        }
    }

    private sealed class SqliteCsvStream : LabUsageCsvStream
    {
        private static readonly SearchValues<byte> NeedsQuotes = SearchValues.Create(",\"\r\n"u8);

        private readonly LetheDb _db;
        private readonly sqlite3 _handle;
        private readonly sqlite3_stmt _statement;
        private readonly int _columns;
        private byte[] _buffer = new byte[1 << 16];
        private int _pos;
        private int _len;
        private bool _rowPending;
        private bool _done;
        private long _rows;
        private long _bytes;
        private bool _disposed;

        public SqliteCsvStream(LetheDb db, sqlite3 handle, sqlite3_stmt statement, IReadOnlyList<string> columns)
        {
            // The stream steps the statement through its native pointer (SqliteNative): the handle is held until disposal.
            _db = db;
            _handle = handle;
            _statement = statement;
            _columns = raw.sqlite3_column_count(statement);
            if (_columns != columns.Count)
            {
                throw new InvalidOperationException($"The export's SELECT has {_columns} columns, the file {columns.Count}.");
            }
            _len = Encoding.UTF8.GetBytes(string.Join(',', columns) + "\r\n", _buffer);
        }

        public override long Rows => _rows;
        public override long Bytes => _bytes;

        public override int Read(Span<byte> buffer)
        {
            if (_pos == _len)
            {
                Fill();
            }
            var n = Math.Min(buffer.Length, _len - _pos);
            _buffer.AsSpan(_pos, n).CopyTo(buffer);
            _pos += n;
            _bytes += n;
            return n;
        }

        // SQLite works synchronously; the read is the statement's steps, done on the caller's thread.
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// Formats whole rows into the buffer until the next one does not fit (a row that does not fit an
        /// empty buffer grows it).
        // Optimized from the first call: the first export of a process otherwise runs its rows through
        // unoptimized code until tiering catches up (the "cold" export of docs/benchmarks.md).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Fill()
        {
            _pos = 0;
            _len = 0;
            var statement = _statement.DangerousGetHandle();
            while (!_done)
            {
                if (!_rowPending)
                {
                    var step = SqliteNative.Step(statement);
                    if (step == raw.SQLITE_DONE)
                    {
                        _done = true;
                        break;
                    }
                    if (step != raw.SQLITE_ROW)
                    {
                        Check(_handle, step);
                    }
                    _rowPending = true;
                }
                var written = TryWriteRow(statement, _buffer.AsSpan(_len));
                if (written < 0)
                {
                    if (_len > 0)
                    {
                        break;
                    }
                    _buffer = new byte[_buffer.Length * 2];
                    continue;
                }
                _len += written;
                _rowPending = false;
                _rows++;
            }
        }

        /// The current row as a CSV line, or -1 when it does not fit <paramref name="output"/>. One call for a
        /// column's text and one for its length: the value's bytes are read in SQLite's memory, not copied out.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private unsafe int TryWriteRow(nint statement, Span<byte> output)
        {
            var o = 0;
            for (var c = 0; c < _columns; c++)
            {
                if (c > 0)
                {
                    if (o == output.Length)
                    {
                        return -1;
                    }
                    output[o++] = (byte)',';
                }
                var text = SqliteNative.ColumnText(statement, c);
                if (text == null)
                {
                    continue;
                }
                var value = new ReadOnlySpan<byte>(text, SqliteNative.ColumnBytes(statement, c));
                if (value.IndexOfAny(NeedsQuotes) < 0)
                {
                    if (!value.TryCopyTo(output[o..]))
                    {
                        return -1;
                    }
                    o += value.Length;
                    continue;
                }
                // Quoted: every quote doubled, in the worst case every byte.
                if (2 * value.Length + 2 > output.Length - o)
                {
                    return -1;
                }
                output[o++] = (byte)'"';
                foreach (var b in value)
                {
                    if (b == (byte)'"')
                    {
                        output[o++] = b;
                    }
                    output[o++] = b;
                }
                output[o++] = (byte)'"';
            }
            if (output.Length - o < 2)
            {
                return -1;
            }
            output[o++] = (byte)'\r';
            output[o++] = (byte)'\n';
            return o;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                try
                {
                    _statement.Dispose();
                }
                finally
                {
                    _db.Database.CloseConnection();
                }
            }
            base.Dispose(disposing);
        }
    }
}
