using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Lethe.Storage.Sqlite;

/// Write-ahead logging lets readers go on while a job writes, and synchronous=NORMAL under WAL
/// syncs at checkpoints rather than at every commit: still durable across a process crash, and
/// job claims stop being bound by fsync. busy_timeout makes concurrent writers wait, not fail.
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    // secure_delete: freed space is overwritten with zeros, so an erased value does not survive in a free page
    // or a slack area of the file (the privacy engine also truncates the WAL after an erasure).
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000; PRAGMA secure_delete=ON;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
