using Lethe.Demo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Gallery;

public static class GalleryServices
{
    public static IServiceCollection AddGallery(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GalleryOptions>().Bind(configuration.GetSection(GalleryOptions.Section))
            .Validate(o => o.TokenLifetime > TimeSpan.Zero, "Lethe:Gallery:TokenLifetime must be positive.")
            .Validate(o => o.CommitWait >= TimeSpan.FromMilliseconds(10) && o.CommitWait <= TimeSpan.FromSeconds(10),
                "Lethe:Gallery:CommitWait must be between 00:00:00.010 and 00:00:10.")
            .ValidateOnStart();
        services.AddSingleton<GalleryCatalog>();
        services.AddScoped<GalleryWrites>();
        services.AddSingleton(new Privacy.Requests.SessionRevoker("Gallery", async (sp, keys, ct) =>
        {
            var writes = sp.GetRequiredService<GalleryWrites>();
            foreach (var author in keys.AuthorIds)
            {
                await writes.RevokeTokensOfAuthorAsync(author, ct);
            }
        }));
        services.AddSingleton(new Privacy.PersonalDataSourceFactory(sp => GalleryPrivacy.Sources(
            sp.GetRequiredService<LetheDb>(), sp.GetRequiredService<Privacy.PersonalDataMap>(), sp.GetRequiredService<GalleryWrites>())));
        services.AddScoped<IDemoContent, GalleryDemo>();
        return services;
    }
}
