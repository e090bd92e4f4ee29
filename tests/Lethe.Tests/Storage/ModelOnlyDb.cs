using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Tests.Storage;

/// A LetheDb configured for a provider, for tests that look at its models: building or comparing models opens no
/// connection, so the PostgreSQL one needs no server.
internal static class ModelOnlyDb
{
    public static TheoryData<DatabaseProvider> Providers => new(DatabaseProvider.Sqlite, DatabaseProvider.Postgres);

    public static LetheDb For(DatabaseProvider provider)
    {
        var options = new DbContextOptionsBuilder<LetheDb>();
        if (provider == DatabaseProvider.Sqlite)
        {
            options.UseLetheSqlite("Data Source=:memory:");
        }
        else
        {
            options.UseLethePostgres("Host=localhost;Database=lethe_model_only");
        }
        return new LetheDb(options.Options);
    }
}
