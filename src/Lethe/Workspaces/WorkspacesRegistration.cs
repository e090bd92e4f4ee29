using Lethe.Demo;
using Lethe.Jobs;
using Lethe.Privacy;
using Lethe.Resources;
using Lethe.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Workspaces;

public static class WorkspacesRegistration
{
    /// The Workspaces module and the telemetry it records.
    public static IServiceCollection AddLetheWorkspaces(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<TelemetryOptions>()
            .Bind(configuration.GetSection(TelemetryOptions.Section))
            .Validate(o => o.RetentionDays is >= 1 and <= 3650, "Lethe:Telemetry:RetentionDays must be between 1 and 3650.")
            .ValidateOnStart();
        services.AddScoped<TelemetryRecorder>();
        services.AddScoped<IJobHandler, TelemetryRetentionSweep>();
        services.AddScoped<IJobHandler, PurgeWorkspace>();
        services.AddScoped<IJobHandler, PurgeExpiredWorkspaces>();
        services.AddScoped<IResourceGroupContent, WorkspacesInResourceGroup>();
        services.AddScoped<Blobs.IBlobOwners, WorkspaceBlobOwners>();
        services.AddSingleton<IDemoContent, WorkspacesDemo>();
        services.AddSingleton(WorkspacesPrivacy.HistoryDocuments);
        services.AddSingleton(new PersonalDataSourceFactory(sp => WorkspacesPrivacy.Sources(
            sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<PersonalDataMap>(), sp.GetRequiredService<Blobs.IBlobStore>())));
        return services;
    }
}
