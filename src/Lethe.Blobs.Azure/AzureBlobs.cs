using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Lethe.Blobs.Azure;

public static class AzureBlobs
{
    /// Registers the Azure Blob Storage store (singleton <see cref="IBlobStore"/>) on
    /// <see cref="BlobOptions.ConnectionString"/>, with <paramref name="options"/> as
    /// <see cref="IOptions{BlobOptions}"/> and <see cref="TimeProvider.System"/> unless a TimeProvider is
    /// registered. Throws on invalid options.
    public static IServiceCollection AddLetheAzureBlobs(this IServiceCollection services, BlobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException("Lethe:Blobs:ConnectionString is required for the Azure blob store.");
        }

        var connectionString = options.ConnectionString;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<IBlobStore>(sp => new AzureBlobStore(connectionString, options, sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
