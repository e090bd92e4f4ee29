using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Tests.Storage;

/// The server does not let EF compare the migrations with the model at every start (decision 0090); this does, for
/// both providers: a model change without its migration (`scripts/new-migration Name`) fails here, not in production.
public sealed class MigrationSnapshotTests
{
    public static TheoryData<DatabaseProvider> Providers => new(DatabaseProvider.Sqlite, DatabaseProvider.Postgres);

    [Theory]
    [MemberData(nameof(Providers))]
    public void Each_providers_migrations_end_at_the_current_model(DatabaseProvider provider)
    {
        using var db = Context(provider);

        Assert.True(!db.Database.HasPendingModelChanges(),
            $"The {provider} migrations do not match the model: run scripts/new-migration with a name for the change.");
    }

    private static LetheDb Context(DatabaseProvider provider)
    {
        var options = new DbContextOptionsBuilder<LetheDb>();
        if (provider == DatabaseProvider.Sqlite)
        {
            options.UseLetheSqlite("Data Source=:memory:");
        }
        else
        {
            // Comparing models contacts no server.
            options.UseLethePostgres("Host=localhost;Database=lethe_model_only");
        }
        return new LetheDb(options.Options);
    }
}
