using System.Net;
using System.Text.Json;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Api;

/// Every error is RFC 7807 problem JSON, and none carries a stack trace or an exception's type.
public sealed class ProblemDetailsTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unknown_route_is_a_not_found_problem(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var op = await host.SignInAsync(DemoAccounts.Operator, Ct);
        using var http = host.Raw(op.AccessToken);

        var error = await Assert.ThrowsAsync<LetheNotFoundException>(() => op.SendAsync(HttpMethod.Get, "no/such/route", null, Ct));
        using var response = await http.GetAsync(new Uri("no/such/route", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_request_without_a_token_is_an_unauthorized_problem(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var anonymous = host.Raw();
        using var forged = host.Raw("forged-token");

        foreach (var path in new[] { "me", "subscriptions", "privacy/map", $"operations/{Guid.NewGuid():D}", "providers/Microsoft.Authorization/roleAssignments?scope=/" })
        {
            using var response = await anonymous.GetAsync(new Uri(path, UriKind.Relative), Ct);
            await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
            using var withForged = await forged.GetAsync(new Uri(path, UriKind.Relative), Ct);
            await AssertProblemAsync(withForged, HttpStatusCode.Unauthorized);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task Validation_forbidden_and_conflict_answers_are_problems(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        var reader = await host.NewUserWithRoleAsync(op, Scenario.Scope(id), "Reader", Ct);
        using var asOperator = host.Raw(op.AccessToken);
        using var asReader = host.Raw(reader.Client.AccessToken);

        using (var invalid = await asOperator.GetAsync(new Uri("subscriptions/not-a-guid", UriKind.Relative), Ct))
        {
            var problem = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty("subscriptionId", out _));
        }
        using (var forbidden = await asReader.PutAsync(new Uri($"subscriptions/{id:D}/resourceGroups/rg", UriKind.Relative), System.Net.Http.Json.JsonContent.Create(new CreateResourceGroupRequest("westeurope")), Ct))
        {
            await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        }
        using (var badQuery = await asOperator.GetAsync(new Uri("subscriptions?$top=many", UriKind.Relative), Ct))
        {
            await AssertProblemAsync(badQuery, HttpStatusCode.BadRequest);
        }
        using (var wrongMethod = await asOperator.DeleteAsync(new Uri("subscriptions", UriKind.Relative), Ct))
        {
            await AssertProblemAsync(wrongMethod, HttpStatusCode.MethodNotAllowed);
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task An_unexpected_failure_is_a_bare_500_problem_and_is_logged(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        // A job whose stored result is not JSON: reading its status fails inside the handler.
        var job = await Operations.OperationTests.InsertJobAsync(host, user.ObjectId, resourceId: null, Jobs.JobState.Succeeded, result: "{corrupt", error: null);
        using var http = host.Raw(user.Client.AccessToken);

        var error = await Assert.ThrowsAsync<LetheApiException>(() => user.Client.GetOperationAsync(job.ToString(), Ct));
        using var response = await http.GetAsync(new Uri($"operations/{job:D}", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        var problem = await AssertProblemAsync(response, HttpStatusCode.InternalServerError);
        var traceId = problem.RootElement.GetProperty("traceId").GetString();
        Assert.Equal("An unexpected error occurred.", problem.RootElement.GetProperty("title").GetString());
        Assert.Contains(host.Logs.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Exception is not null && e.Message.Contains(traceId!, StringComparison.Ordinal));
    }

    /// The answer is problem JSON with the status, and nothing that reveals the server's insides.
    internal static async Task<JsonDocument> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        AssertNoInternals(body);
        var problem = JsonDocument.Parse(body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("title").GetString()));
        return problem;
    }

    internal static void AssertNoInternals(string body)
    {
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Lethe.Server.", body, StringComparison.Ordinal);
    }
}
