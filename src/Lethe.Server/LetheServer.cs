using Lethe.Server.Api;
using Lethe.Server.Api.Gallery;
using Lethe.Server.Api.Labs;
using Lethe.Server.Api.Workspaces;
using Lethe.Server.Hosting;
using Lethe.Server.Portal;
using Scalar.AspNetCore;

namespace Lethe.Server;

/// Builds the Lethe server: the same composition for Program (and WebApplicationFactory) and `lethe serve`.
public static class LetheServer
{
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null, CancellationToken ct = default)
    {
        // A published server or the installed `lethe` tool keeps the portal's files beside its assemblies: served from
        // there whatever the working folder. A build serves them from the source tree (PortalHosting).
        var published = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, WebRootPath = Directory.Exists(published) ? published : null });
        configure?.Invoke(builder);
        builder.AddLetheStorage();
        builder.AddLetheDataProtection();
        builder.AddLetheIdentity();
        builder.AddLetheWork();
        builder.AddLetheApi();
        builder.AddLethePortal();

        var app = builder.Build();
        app.UseLetheApi();
        app.MapOpenApi();
        app.MapScalarApiReference("/reference", o => o.WithTitle("Lethe API"));
        app.MapLetheHealth();
        app.MapLetheIdentity();
        app.MapTelemetryEndpoints();
        app.MapResourceEndpoints();
        app.MapAccessEndpoints();
        app.MapOperationEndpoints();
        app.MapPrivacyEndpoints();
        app.MapPrivacyRequestEndpoints();
        app.MapWorkspaceEndpoints();
        app.MapCatalogEndpoints();
        app.MapLabEndpoints();
        app.MapLethePortal();

        await app.Services.InitializeLetheAsync(ct);
        return app;
    }
}
