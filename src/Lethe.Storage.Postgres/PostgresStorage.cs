using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Storage.Postgres;

/// PostgreSQL (Npgsql), for production and for several nodes.
public static class PostgresStorage
{
    /// Registers the database for this provider (and, with it, what is provider-specific in Lethe).
    public static IServiceCollection AddLethePostgres(this IServiceCollection services, string connectionString)
    {
        services.AddDbContext<LetheDb>(options => options.UseLethePostgres(connectionString));
        services.AddSingleton<Lethe.Jobs.IJobClaimer, PostgresJobClaim>();
        services.AddSingleton<Lethe.Labs.ILabUsageCsvSource, PostgresLabUsageCsv>();
        return services;
    }

    /// The bulk path of `lethe seed --scale`.
    public static Lethe.Demo.IBulkCopy BulkCopy { get; } = new PostgresBulkCopy();

    public static DbContextOptionsBuilder UseLethePostgres(this DbContextOptionsBuilder builder, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseNpgsql(connectionString, o => o.MigrationsAssembly(typeof(PostgresStorage).Assembly.GetName().Name));
    }
}

/// Lets `dotnet ef migrations add` build the model for this provider; no server is contacted.
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<LetheDb>
{
    public LetheDb CreateDbContext(string[] args)
        {
        var options = new DbContextOptionsBuilder<LetheDb>();
        options.UseLethePostgres("Host=localhost;Database=lethe_design");
        return new(options.Options);
    }
}
