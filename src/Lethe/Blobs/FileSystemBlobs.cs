using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Lethe.Blobs;

public static class FileSystemBlobs
{
    /// The folder of the blobs inside the data folder.
    public const string FolderName = "blobs";

    /// Registers the file-system blob store (singleton <see cref="IBlobStore"/>) in
    /// <c>{dataDirectory}/blobs</c>, with <paramref name="options"/> as <see cref="IOptions{BlobOptions}"/>
    /// and <see cref="TimeProvider.System"/> unless a TimeProvider is registered. Throws on invalid options.
    public static IServiceCollection AddLetheFileSystemBlobs(this IServiceCollection services, BlobOptions options, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        options.ThrowIfInvalid();
        var root = Path.Join(dataDirectory, FolderName);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<IBlobStore>(sp => new FileSystemBlobStore(root, options, sp.GetRequiredService<TimeProvider>()));
        // Its puts' work files are a location of the personal-data map.
        return services.AddBlobWorkFilesPrivacy();
    }
}
