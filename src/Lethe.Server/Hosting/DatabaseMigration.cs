using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Hosting;

/// `lethe serve` migrates the embedded default; PostgreSQL in production is migrated explicitly with
/// `lethe db migrate`, so that several nodes never race to change the schema at start.
public static class DatabaseMigration
{
    public static async Task EnsureCurrentAsync(LetheDb db, DatabaseOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Provider == DatabaseProvider.Sqlite || options.MigrateOnStart)
        {
            await db.Database.MigrateAsync(ct);
            return;
        }
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"The PostgreSQL database has {pending.Count} pending migration(s) ({string.Join(", ", pending)}). Run `lethe db migrate` first, or set Lethe:Database:MigrateOnStart=true.");
        }
    }

    /// What `lethe db migrate` does: applies every pending migration and says which.
    public static async Task<IReadOnlyList<string>> MigrateAsync(LetheDb db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        await db.Database.MigrateAsync(ct);
        return pending;
    }
}
