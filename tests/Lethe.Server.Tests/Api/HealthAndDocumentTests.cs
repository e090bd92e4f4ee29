using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Api;

public sealed class HealthAndDocumentTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Health_is_healthy_and_names_the_database_check(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);

        var health = await host.Anonymous().GetHealthAsync(Ct);

        Assert.Equal("Healthy", Assert.Contains("database", health.Checks));
        // The demo data schedules shutdown notices and the test server has no mail server: only email is degraded.
        Assert.Equal("Degraded", Assert.Contains("email", health.Checks));
        Assert.Equal("Degraded", health.Status);
        Assert.All(health.Checks.Where(c => c.Key != "email"), c => Assert.Equal("Healthy", c.Value));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Liveness_answers_without_touching_the_database(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var http = host.Raw();

        using var response = await http.GetAsync(new Uri("health/live", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Empty(body.RootElement.GetProperty("checks").EnumerateObject());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_OpenAPI_document_lists_the_management_paths(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var http = host.Raw();

        using var response = await http.GetAsync(new Uri("openapi/v1.json", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/subscriptions", paths);
        Assert.Contains("/subscriptions/{subscriptionId}/resourceGroups", paths);
        Assert.Contains("/providers/Microsoft.Authorization/roleAssignments", paths);
        Assert.Contains("/operations/{operationId}", paths);
        Assert.Contains("/me", paths);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_API_reference_page_answers(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        // The factory's client follows redirects (Scalar may redirect /reference to /reference/).
        using var http = host.Raw();

        using var response = await http.GetAsync(new Uri("reference", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Lethe API", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Outside_development_the_portal_assets_are_served_without_a_file_system_route_for_every_request()
    {
        var host = await servers.GetAsync(DatabaseProvider.Sqlite);
        using var http = host.Raw();

        using var css = await http.GetAsync(new Uri("css/lethe.css", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        // The development fallback ("{**path:file}") checks the file system for every path it is asked to match.
        var routes = host.Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText).ToList();
        Assert.Contains("css/lethe.css", routes);
        Assert.DoesNotContain(routes, r => r is not null && r.Contains(":file}", StringComparison.Ordinal));
    }
}
