using System.Net;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Api;

/// A browser that reaches an address that fails gets the portal's error page, in HTML, with the
/// right status; a client asking for JSON at the same address still gets problem details.
public sealed class PortalErrorPageTests(Servers servers) : IClassFixture<Servers>
{
    private const string BrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_browser_gets_an_html_error_page_and_a_client_gets_problem_json(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var http = host.Raw();

        using var page = await SendAsync(http, "no/such/page", BrowserAccept);
        using var problem = await SendAsync(http, "no/such/page", "application/json");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<h1>Page not found</h1>", html, StringComparison.Ordinal);
        Assert.Contains("Go to the home page", html, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NotFound, problem.StatusCode);
        Assert.Equal("application/problem+json", problem.Content.Headers.ContentType?.MediaType);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Accept.ParseAdd(accept);
        return http.SendAsync(request, Ct);
    }
}
