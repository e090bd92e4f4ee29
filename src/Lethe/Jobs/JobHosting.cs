using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Lethe.Jobs;

public static class JobHosting
{
    /// Runs job workers in this process, configured from the <see cref="JobOptions.Section"/> section
    /// of <paramref name="configuration"/>. The database provider registration supplies the
    /// <see cref="IJobClaimer"/>; modules register their <see cref="IJobHandler"/>s.
    public static IServiceCollection AddLetheJobs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddLetheJobs(options => options.Bind(configuration.GetSection(JobOptions.Section)));
    }

    public static IServiceCollection AddLetheJobs(this IServiceCollection services, Action<JobOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLetheJobs(options => options.Configure(configure));
    }

    private static IServiceCollection AddLetheJobs(this IServiceCollection services, Action<OptionsBuilder<JobOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<JobOptions>();
        configure(options);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobOptions>, JobOptionsValidation>());
        services.TryAddSingleton(TimeProvider.System);
        // One hosted service runs JobOptions.Workers claim loops, each its own lease owner.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, JobWorker>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IJobHandler, PurgeEndedJobs>());
        return services;
    }
}
