using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Lethe.Client;
using Lethe.Server.Tests.Hosting;
using Lethe.Testing;

namespace Lethe.Server.Tests.Api;

/// What the fuzz test proves for every operation, said for the examples of issue 12: a malformed body is a
/// 400 (or 413) that says what was wrong in words, names the field, no .NET type, and repeats no huge value.
public sealed class HostileInputTests(Servers servers) : IClassFixture<Servers>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Boundary = "b0undary";

    public static TheoryData<DatabaseProvider, string, int, string> MultipartCases()
    {
        var data = new TheoryData<DatabaseProvider, string, int, string>();
        foreach (var provider in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
        {
            data.Add(provider, "no boundary", 400, "boundary");
            data.Add(provider, "unterminated", 400, "closing boundary");
            data.Add(provider, "part without Content-Disposition", 400, "Content-Disposition");
            data.Add(provider, "thousands of parts", 413, "more parts than");
        }
        return data;
    }

    private static (string Body, string ContentType) Multipart(string what)
    {
        var part = $"--{Boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"model.pkl\"\r\n\r\nabc\r\n";
        var typed = $"multipart/form-data; boundary={Boundary}";
        return what switch
        {
            "no boundary" => (part + $"--{Boundary}--\r\n", "multipart/form-data"),
            "unterminated" => (part + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"b.pkl\"\r\n\r\nab", typed),
            "part without Content-Disposition" => ($"--{Boundary}\r\nContent-Type: text/plain\r\n\r\nabc\r\n--{Boundary}--\r\n", typed),
            _ => (string.Concat(Enumerable.Range(0, 3000).Select(i => part.Replace("model.pkl", $"f{i}.pkl", StringComparison.Ordinal))) + $"--{Boundary}--\r\n", typed),
        };
    }

    [Theory]
    [MemberData(nameof(MultipartCases))]
    public async Task A_malformed_multipart_model_registration_is_refused_in_words_and_stores_nothing(DatabaseProvider provider, string what, int status, string words)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg", "westeurope", Ct);
        var workspace = await op.CreateOrUpdateWorkspaceAsync(id, "rg", "fuzz-ws", new CreateWorkspaceRequest("westeurope"), Ct);
        using var http = host.Raw(op.AccessToken);
        var (body, contentType) = Multipart(what);
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        using var response = await http.PostAsync(new Uri($"{workspace.Id.TrimStart('/')}/models/m/versions", UriKind.Relative), content, Ct);

        var problem = await ProblemDetailsTests.AssertProblemAsync(response, (HttpStatusCode)status);
        Assert.Contains(words, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        if (status == 413)
        {
            Assert.Equal("The request body is too large.", problem.RootElement.GetProperty("title").GetString());
        }
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.ListModelVersionsAsync(id, "rg", "fuzz-ws", "m", Ct).ToListAsync(Ct).AsTask());
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_wrong_typed_JSON_field_is_named_with_what_it_must_be(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var (id, op) = await host.NewSubscriptionAsync(Ct);
        await op.CreateOrUpdateResourceGroupAsync(id, "rg", "westeurope", Ct);
        using var http = host.Raw(op.AccessToken);
        var workspace = new Uri($"subscriptions/{id:D}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/fuzz-ws", UriKind.Relative);

        using (var wrongType = await http.PutAsync(workspace, Json("{\"location\":{\"a\":1}}"), Ct))
        {
            var problem = await ProblemDetailsTests.AssertProblemAsync(wrongType, HttpStatusCode.BadRequest);
            Assert.Equal("'location' must be a string.", problem.RootElement.GetProperty("errors").GetProperty("location")[0].GetString());
        }
        using (var array = await http.PutAsync(workspace, Json("[1]"), Ct))
        {
            var problem = await ProblemDetailsTests.AssertProblemAsync(array, HttpStatusCode.BadRequest);
            Assert.Equal("The request body must be an object.", problem.RootElement.GetProperty("detail").GetString());
        }
        using (var guid = await http.PutAsync(new Uri($"providers/Microsoft.Authorization/roleAssignments/{Guid.NewGuid():D}", UriKind.Relative),
            Json($"{{\"scope\":\"/subscriptions/{id:D}\",\"roleDefinitionName\":\"Reader\",\"principalId\":\"not-a-guid\"}}"), Ct))
        {
            var problem = await ProblemDetailsTests.AssertProblemAsync(guid, HttpStatusCode.BadRequest);
            Assert.StartsWith("'principalId' must be a GUID", problem.RootElement.GetProperty("errors").GetProperty("principalId")[0].GetString(), StringComparison.Ordinal);
        }
        using (var notJson = await http.PutAsync(workspace, Json("{\"location\":"), Ct))
        {
            var problem = await ProblemDetailsTests.AssertProblemAsync(notJson, HttpStatusCode.BadRequest);
            Assert.Equal("The request body is not valid JSON.", problem.RootElement.GetProperty("title").GetString());
        }
        using (var text = await http.PutAsync(workspace, new StringContent("{}", Encoding.UTF8, "text/plain"), Ct))
        {
            var problem = await ProblemDetailsTests.AssertProblemAsync(text, HttpStatusCode.UnsupportedMediaType);
            Assert.Contains("application/json", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetWorkspaceAsync(id, "rg", "fuzz-ws", Ct));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_huge_value_is_not_echoed_back(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        using var anonymous = host.Raw();
        var email = new string('a', 300_000) + "@example.test";

        foreach (var path in new[] { "identity/register", "identity/forgotPassword", "identity/resendConfirmationEmail" })
        {
            using var response = await anonymous.PostAsync(new Uri(path, UriKind.Relative), Json($"{{\"email\":\"{email}\",\"password\":\"{LetheHost.Password}\"}}"), Ct);

            var problem = await ProblemDetailsTests.AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.True(problem.RootElement.GetRawText().Length < 2000, $"{path} answered {problem.RootElement.GetRawText().Length} characters.");
            Assert.Equal("'email' has at most 256 characters.", problem.RootElement.GetProperty("errors").GetProperty("email")[0].GetString());
        }
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_failed_operation_tells_its_requester_the_messages_not_the_exception_types(DatabaseProvider provider)
    {
        var host = await servers.GetAsync(provider);
        var user = await host.NewUserAsync(Ct);
        var job = await Operations.OperationTests.InsertJobAsync(host, user.ObjectId, resourceId: null, Jobs.JobState.Failed, result: null,
            error: "LabExportStorageException: The usage export could not be written ---> System.IO.IOException: No space left on device");

        var status = await user.Client.GetOperationAsync(job.ToString(), Ct);

        Assert.Equal("The usage export could not be written (No space left on device)", status.Error?.Message);
        Assert.Equal(status.Error?.Message, status.LastError);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
}

/// The last filter every problem body passes through.
public sealed class RequestProblemsTests
{
    [Theory]
    [InlineData("could not be converted to System.Nullable`1[System.Guid] here", "could not be converted to a value of another type here")]
    [InlineData("type 'Lethe.Client.CreateWorkspaceRequest' failed", "type a value of another type failed")]
    [InlineData("a LabExportStorageException was thrown", "a a value of another type was thrown")]
    [InlineData("/subscriptions/x/providers/Microsoft.DevTestLab/labs/y is not a lab", "/subscriptions/x/providers/Microsoft.DevTestLab/labs/y is not a lab")]
    [InlineData("Microsoft.MachineLearningServices workspaces only", "Microsoft.MachineLearningServices workspaces only")]
    [InlineData("from Microsoft.AspNetCore.Identity.Data.RegisterRequest", "from a value of another type")]
    public void Type_names_are_replaced_and_resource_providers_kept(string message, string expected)
        => Assert.Equal(expected, Lethe.Server.Api.RequestProblems.Clean(message));

    [Fact]
    public void A_huge_value_is_cut_to_its_start_with_its_length()
    {
        var email = new string('a', 300_000) + "@example.test";

        var clean = Lethe.Server.Api.RequestProblems.Clean($"Email '{email}' is invalid.");

        Assert.Equal($"Email '{new string('a', 40)}… (300013 characters)' is invalid.", clean);
    }

    [Fact]
    public void No_message_is_longer_than_the_limit()
        => Assert.Equal(Lethe.Server.Api.RequestProblems.MessageLimit, Lethe.Server.Api.RequestProblems.Clean(string.Join(' ', Enumerable.Repeat("word", 2000)))!.Length);
}
