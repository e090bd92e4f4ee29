using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Storage.Sqlite;

/// SQLite, the embedded default: one file in the data folder.
public static class SqliteStorage
{
    /// Registers the database for this provider (and, with it, what is provider-specific in Lethe).
    public static IServiceCollection AddLetheSqlite(this IServiceCollection services, string connectionString)
    {
        services.AddDbContext<LetheDb>(options => options.UseLetheSqlite(connectionString));
        services.AddSingleton<Lethe.Jobs.IJobClaimer, SqliteJobClaim>();
        services.AddSingleton<Lethe.Labs.ILabUsageCsvSource, SqliteLabUsageCsv>();
        return services;
    }

    public static DbContextOptionsBuilder UseLetheSqlite(this DbContextOptionsBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(SqliteStorage).Assembly.GetName().Name))
            .AddInterceptors(new SqlitePragmas())
            // EF's table rebuilds on SQLite switch foreign keys off outside the migration's transaction, and EF says so
            // at every first start. The rebuilds are EF's own and each migration runs once; the warning told a new user
            // nothing they could act on.
            .ConfigureWarnings(w => w.Ignore(Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.NonTransactionalMigrationOperationWarning));
    }
}

/// Lets `dotnet ef migrations add` build the model for this provider.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<LetheDb>
{
    public LetheDb CreateDbContext(string[] args)
        {
        var options = new DbContextOptionsBuilder<LetheDb>();
        options.UseLetheSqlite("Data Source=design-time.db");
        return new(options.Options);
    }
}
