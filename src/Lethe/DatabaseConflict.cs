using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Lethe;

/// The database refused a write because another request changed the same thing at the same time: a unique
/// index or primary key already taken, a row gone or changed under a conditional update, a parent deleted
/// under a foreign key, or (PostgreSQL) a deadlock or serialization failure between the two. The database is
/// the arbiter (docs/decisions/0070-concurrent-writes.md): the request that lost answers 409, never 500.
public static class DatabaseConflict
{
    // PostgreSQL's SQLSTATEs: unique_violation, foreign_key_violation, serialization_failure, deadlock_detected.
    private static readonly HashSet<string> PostgresStates = ["23505", "23503", "40001", "40P01"];

    // SQLite's primary result code SQLITE_CONSTRAINT; Microsoft.Data.Sqlite puts it in DbException.ErrorCode.
    private const int SqliteConstraint = 19;

    public static bool Is(Exception exception) => exception switch
    {
        DbUpdateConcurrencyException => true,
        DbUpdateException { InnerException: DbException inner } => IsConflict(inner),
        DbException direct => IsConflict(direct),
        _ => false,
    };

    private static bool IsConflict(DbException e)
        => e.SqlState is { } state ? PostgresStates.Contains(state) : e.ErrorCode == SqliteConstraint;
}
