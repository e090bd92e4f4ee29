using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Lethe.Storage.Sqlite;

/// SQLite, the embedded default: one file in the data folder.
public static class SqliteStorage
{
    public static DbContextOptionsBuilder UseLetheSqlite(this DbContextOptionsBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseSqlite(connectionString, o => o.MigrationsAssembly(typeof(SqliteStorage).Assembly.GetName().Name));
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
