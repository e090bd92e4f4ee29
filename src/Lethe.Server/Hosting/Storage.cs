using Lethe.Blobs;
using Lethe.Blobs.Azure;
using Lethe.Jobs;
using Lethe.Storage.Postgres;
using Lethe.Storage.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Hosting;

internal static class Storage
{
    /// The database and blob store chosen by configuration: SQLite and the file system under the
    /// data folder by default; PostgreSQL and Azure Blob Storage for several nodes.
    public static void AddLetheStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DataOptions>().BindConfiguration(DataOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section)
            .Validate(o => o.Provider != DatabaseProvider.Postgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Lethe:Database:ConnectionString is required when Lethe:Database:Provider is Postgres.")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);

        var data = builder.Configuration.GetSection(DataOptions.Section).Get<DataOptions>() ?? new DataOptions();
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var dataDirectory = Path.GetFullPath(data.DataDirectory);
        Directory.CreateDirectory(dataDirectory);

        if (database.Provider == DatabaseProvider.Postgres)
        {
            services.AddLethePostgres(database.ConnectionString ?? "");
        }
        else
        {
            var connectionString = string.IsNullOrWhiteSpace(database.ConnectionString)
                ? $"Data Source={Path.Combine(dataDirectory, "lethe.db")}"
                : database.ConnectionString;
            services.AddLetheSqlite(connectionString);
        }

        var blobs = builder.Configuration.GetSection(BlobOptions.Section).Get<BlobOptions>() ?? new BlobOptions();
        if (blobs.Provider == BlobProvider.Azure)
        {
            services.AddLetheAzureBlobs(blobs);
        }
        else
        {
            services.AddLetheFileSystemBlobs(blobs, dataDirectory);
        }
        services.AddHealthChecks()
            .AddCheck<BlobStoreHealthCheck>("blobs", tags: ["ready"])
            .AddCheck<SetAsideHealthCheck>(SetAsideHealthCheck.Name, tags: ["ready"]);
    }

    /// Applies migrations where that is the deployment's rule, then creates what a first start needs.
    public static async Task InitializeLetheAsync(this IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        await DatabaseMigration.EnsureCurrentAsync(db, options, ct);
        await Bootstrap.RunAsync(scope.ServiceProvider, ct);
        await RecurringJob.EnsureScheduledAsync(db, scope.ServiceProvider.GetServices<IJobHandler>(), scope.ServiceProvider.GetRequiredService<TimeProvider>(), ct);
    }
}

/// Readiness includes the blob store: a node that cannot reach it must not take traffic.
internal sealed class BlobStoreHealthCheck(IBlobStore blobs) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(
        HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await blobs.CheckHealthAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The type only: storage errors can carry account names and URLs.
            return HealthCheckResult.Unhealthy("The blob store did not answer: " + e.GetType().Name);
        }
    }
}
