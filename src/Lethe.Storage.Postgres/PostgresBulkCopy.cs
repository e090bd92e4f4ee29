using System.Data.Common;
using Lethe.Demo;
using Npgsql;

namespace Lethe.Storage.Postgres;

/// Binary COPY: the rows stream to the server in PostgreSQL's own binary format, with no statement to parse or plan
/// and no parameter limit. 1.2 to 1.3 times the prepared multi-row INSERT on the scale data (docs/benchmarks.md):
/// the server's index and foreign-key work, which both pay, is most of the time.
public sealed class PostgresBulkCopy : IBulkCopy
{
    public async Task WriteAsync(DbConnection connection, DbTransaction transaction, BulkTable table, IReadOnlyList<object> rows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        // COPY runs in the connection's open transaction; there is nothing to attach it to.
        var npgsql = connection as NpgsqlConnection ?? throw new ArgumentException("Binary COPY needs an Npgsql connection.", nameof(connection));
        var columns = table.Columns;
        // The column's type without its facets ("character varying", not "character varying(256)"): the type the
        // value is encoded as, so that a string goes out as text and a DateTimeOffset as timestamptz.
        var types = columns.Select(c => c.Mapping.StoreTypeNameBase).ToArray();
        await using var import = await npgsql.BeginBinaryImportAsync(
            $"COPY {table.DelimitedName} ({string.Join(", ", columns.Select(c => c.DelimitedName))}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var row in rows)
        {
            await import.StartRowAsync(ct);
            for (var c = 0; c < columns.Count; c++)
            {
                if (columns[c].ValueOf(row) is { } value)
                {
                    // Npgsql writes a timestamptz only from UTC, as EF's parameters do.
                    await import.WriteAsync(value is DateTimeOffset at ? at.ToUniversalTime() : value, types[c], ct);
                }
                else
                {
                    await import.WriteNullAsync(ct);
                }
            }
        }
        await import.CompleteAsync(ct);
    }
}
