using Lethe.Demo;
using Lethe.Jobs;
using Lethe.Privacy;
using Lethe.Resources;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Labs;

public static class LabsHosting
{
    /// The Labs module: its jobs, sweeps, mail, demo content and what it keeps in resource groups.
    /// The host registers an <see cref="ISasContainerWriter"/> (Lethe.Blobs.Azure).
    public static IServiceCollection AddLabs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SmtpOptions>().Bind(configuration.GetSection(SmtpOptions.Section)).Validate(o => o.Port is > 0 and < 65536, "Lethe:Smtp:Port is between 1 and 65535.").ValidateOnStart();
        services.AddSingleton<LabMail>();
        services.AddScoped<IJobHandler, ExportLabUsage>();
        services.AddScoped<IJobHandler, AnonymizeLabPersonalData>();
        services.AddScoped<IJobHandler, AutoShutdown>();
        services.AddScoped<IJobHandler, AccrueLabCosts>();
        services.AddScoped<IResourceGroupContent, LabContent>();
        services.AddScoped<Blobs.IBlobOwners, LabBlobOwners>();
        services.AddScoped<IDemoContent, LabsDemo>();
        services.AddSingleton(new PersonalBlobLocation(
            "Labs", ExportLabUsage.Container, LabsPrivacy.UsageExportSource.Prefix, PersonalDataCategory.Identifier, SubjectKind.ObjectId, ErasureStrategy.RetainThenAnonymize,
            "Lab usage exports (virtualmachines.csv, disks.csv) in the lab's own storage: VM owners' object IDs. They hold many people's rows, so they are never deleted for one person; the owner is anonymized inside them with the VM.",
            Sweep: AnonymizeLabPersonalData.JobKind, RetentionDays: Lab.DefaultAnonymizeAfterDays));
        foreach (var file in LabsBundleFiles.All)
        {
            services.AddSingleton(file);
        }
        services.AddSingleton(new PersonalDataSourceFactory(sp => LabsPrivacy.Sources(
            sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<PersonalDataMap>(), sp.GetRequiredService<Blobs.IBlobStore>())));
        return services;
    }
}
