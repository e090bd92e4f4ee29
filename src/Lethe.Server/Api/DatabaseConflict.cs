using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Lethe.Server.Api;

/// The database refused a write because another request changed the same thing at the same time: a unique
/// index or primary key already taken, a row gone or changed under a conditional update, a parent deleted
/// under a foreign key, or (PostgreSQL) a deadlock or serialization failure between the two. The database is
/// the arbiter (docs/decisions/0070-concurrent-writes.md): the request that lost answers 409, never 500.
internal static class DatabaseConflict
{
    private static readonly HashSet<string> PostgresStates =
    [
        PostgresErrorCodes.UniqueViolation, PostgresErrorCodes.ForeignKeyViolation,
        PostgresErrorCodes.SerializationFailure, PostgresErrorCodes.DeadlockDetected,
    ];

    // SQLite's extended result codes SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY and _FOREIGNKEY; NOT NULL and CHECK
    // failures are bugs, not races, and stay 500.
    private static readonly HashSet<int> SqliteCodes = [2067, 1555, 787];

    /// Looks through the wrappers: EF Core's `DbUpdateException`, and the `InvalidOperationException` its retrying
    /// execution strategy throws for a transient error (a deadlock) inside a transaction it cannot retry.
    public static bool Is(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbUpdateConcurrencyException || IsConflict(e))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsConflict(Exception e) => e switch
    {
        PostgresException pg => PostgresStates.Contains(pg.SqlState),
        SqliteException sqlite => SqliteCodes.Contains(sqlite.SqliteExtendedErrorCode),
        _ => false,
    };
}
