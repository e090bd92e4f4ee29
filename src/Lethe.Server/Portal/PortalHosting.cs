using Microsoft.AspNetCore.Hosting.StaticWebAssets;

namespace Lethe.Server.Portal;

/// The web portal: server-rendered Razor Pages under /Portal that call the core in-process.
internal static class PortalHosting
{
    // Named after this assembly, not the entry assembly: `lethe serve` and the test hosts start the server from their own.
    private static readonly string AssetsName = typeof(PortalHosting).Assembly.GetName().Name!;

    /// ASP.NET Core's switch for serving wwwroot changes made after the build (on by default for a build, not a publish).
    internal const string ReloadStaticAssetsKey = "ReloadStaticAssetsAtRuntime";

    public static void AddLethePortal(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Portal";
                // Signed in for everything; open are only the pages that sign someone in or out or explain a refusal.
                o.Conventions.AuthorizeFolder("/");
                o.Conventions.AllowAnonymousToPage("/Account/Login");
                o.Conventions.AllowAnonymousToPage("/Account/Logout");
                o.Conventions.AllowAnonymousToPage("/Account/Denied");
                o.Conventions.AllowAnonymousToPage("/Account/Invitation");
                o.Conventions.AllowAnonymousToPage("/Error");
            })
            // The pages are compiled into this assembly, which is not the entry assembly under `lethe serve` or a test host.
            .AddApplicationPart(typeof(PortalHosting).Assembly);

        // A build (not a publish) serves wwwroot from the source tree through this manifest. The host loads it by
        // itself only in Development and only when this assembly is the entry assembly.
        var runtimeManifest = Path.Combine(AppContext.BaseDirectory, $"{AssetsName}.staticwebassets.runtime.json");
        if (File.Exists(runtimeManifest))
        {
            builder.Configuration[WebHostDefaults.StaticWebAssetsKey] = runtimeManifest;
            StaticWebAssetsLoader.UseStaticWebAssets(builder.Environment, builder.Configuration);
        }
        // Re-reading wwwroot files that changed after the build is for development. Elsewhere it would add a fallback
        // route whose constraint asks the file system whether a file exists, on every request whatever its path
        // (a stat per API call, seen in the catalog load profile). An operator's explicit setting still wins.
        if (!builder.Environment.IsDevelopment())
        {
            builder.Configuration[ReloadStaticAssetsKey] ??= "false";
        }
    }

    public static void MapLethePortal(this WebApplication app)
    {
        app.MapStaticAssets(Path.Combine(AppContext.BaseDirectory, $"{AssetsName}.staticwebassets.endpoints.json"));
        app.MapRazorPages();
    }
}
