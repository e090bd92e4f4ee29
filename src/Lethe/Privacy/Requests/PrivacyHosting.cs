using Lethe.Blobs;
using Lethe.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Privacy.Requests;

public static class PrivacyHosting
{
    /// Subject requests: options (<c>Lethe:Privacy</c>), the request service, the job that runs them, the bundle
    /// sweep, and the engine's own personal data (requests' identifiers, bundles) in the map.
    public static IServiceCollection AddPrivacyRequests(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PrivacyOptions>().Bind(configuration.GetSection(PrivacyOptions.Section))
            .Validate(o => o.BundleRetentionDays is >= 1 and <= 365, "Lethe:Privacy:BundleRetentionDays is between 1 and 365.")
            .Validate(o => o.DueDays is >= 1 and <= 365, "Lethe:Privacy:DueDays is between 1 and 365.")
            .Validate(o => Enum.IsDefined(o.ErasureApproval), "Lethe:Privacy:ErasureApproval is Officer or None.")
            .ValidateOnStart();
        services.AddSingleton<SubjectHashes>();
        services.AddScoped<PrivacyRequests>();
        services.AddScoped<IJobHandler, RunPrivacyRequest>();
        services.AddScoped<IJobHandler, PurgeExpiredBundles>();
        services.AddSingleton(RequestsPrivacy.Bundles);
        services.AddSingleton(new PersonalDataSourceFactory(sp => RequestsPrivacy.Sources(
            sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<PersonalDataMap>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<SubjectHashes>())));
        return services;
    }
}
