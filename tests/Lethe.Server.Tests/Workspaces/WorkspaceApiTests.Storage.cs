using System.Net;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Privacy;
using Lethe.Testing;
using Lethe.Workspaces;
using Microsoft.Extensions.DependencyInjection;

namespace Lethe.Server.Tests.Workspaces;

/// Seed 001: the job history documents and the data in a workspace's storage can be downloaded and deleted.
public sealed partial class WorkspaceApiTests
{
    private const string History = "azureml/ExperimentRun/dcid.run_1/history.json";

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Readers_download_history_documents_and_data_and_contributors_delete_them_keeping_the_job(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var contributor = await s.UserAsync("Contributor", Ct);
        var reader = await s.UserAsync("Reader", Ct);
        var c = contributor.Client;
        var container = await s.ContainerAsync(Ct);
        await c.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", new SubmitJobRequest("iris"), Ct);
        await c.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Text("a,b\n1,2\n"), Ct);

        var listed = await reader.Client.ListStorageAsync(s.SubscriptionId, s.Group, s.Name, "azureml/", Ct);
        Assert.Equal([History], listed.Select(b => b.Path));
        using (var download = await reader.Client.DownloadFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct))
        {
            Assert.Equal("application/json", download.Content.Headers.ContentType?.MediaType);
            using var doc = JsonDocument.Parse(await download.Content.ReadAsStringAsync(Ct));
            Assert.Equal(contributor.Email, doc.RootElement.GetProperty("createdBy").GetProperty("userEmail").GetString());
        }
        using (var data = await reader.Client.DownloadFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Ct))
        {
            Assert.Equal("a,b\n1,2\n", await data.Content.ReadAsStringAsync(Ct));
        }
        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct));
        Assert.True((await c.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", Ct)).HasHistoryDocument);

        await c.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct);

        var job = await reader.Client.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", Ct);
        Assert.False(job.HasHistoryDocument);
        Assert.NotNull(job.HistoryDocumentDeletedAt);
        Assert.False(Assert.Single(await reader.Client.ListJobsAsync(s.SubscriptionId, s.Group, s.Name, ct: Ct).ToListAsync(Ct)).HasHistoryDocument);
        // Gone for good: no tombstone that a workspace recovery could bring back.
        Assert.DoesNotContain(History, await s.BlobNamesAsync(container, Ct));
        Assert.DoesNotContain(History, await s.DeletedBlobNamesAsync(container, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => reader.Client.DownloadFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => c.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct));

        await c.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Ct);
        Assert.Empty(await reader.Client.ListStorageAsync(s.SubscriptionId, s.Group, s.Name, ct: Ct));

        await s.Operator.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        await s.Operator.RecoverWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.False((await c.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", Ct)).HasHistoryDocument);
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Hostile_storage_paths_are_refused_in_words_and_nothing_is_deleted(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", new SubmitJobRequest("iris"), Ct);
        await op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", new Dictionary<string, Stream> { ["model.pkl"] = Text("v1") }, ct: Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Text("x"), Ct);
        var before = await s.BlobNamesAsync(container, Ct);

        using var raw = s.Host.Raw(op.AccessToken);
        var ws = LetheClient.WorkspacePath(s.SubscriptionId, s.Group, s.Name);
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            // Traversal, absolute and (double-)encoded forms are refused (400); a dot segment Kestrel resolves before routing
            // stays inside the container and is simply not there (404).
            foreach (var (path, status) in new[]
            {
                ("datasets%2F..%2F..%2Fetc%2Fpasswd", HttpStatusCode.BadRequest), ("..%2Fdatasets%2Firis.csv", HttpStatusCode.BadRequest),
                ("azureml%2FExperimentRun%2Fdcid.run_1%2F..%2F..%2Fx", HttpStatusCode.BadRequest), ("%2Fetc%2Fpasswd", HttpStatusCode.BadRequest),
                ("datasets%5C..%5Ciris.csv", HttpStatusCode.BadRequest),
                ("datasets%252F..%252Firis.csv", HttpStatusCode.BadRequest), ("datasets/%2E%2E/azureml/x", HttpStatusCode.NotFound),
            })
            {
                using var request = new HttpRequestMessage(method, $"{ws}/storage/{path}");
                using var response = await raw.SendAsync(request, Ct);
                var body = await response.Content.ReadAsStringAsync(Ct);
                Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode} {body}");
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain("System.", body, StringComparison.Ordinal);
                Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
            }
        }
        var models = await Assert.ThrowsAsync<LetheValidationException>(() => op.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "models/clf/1/model.pkl", Ct));
        Assert.Contains("deleted with the model", string.Join(" ", models.Errors!["path"]), StringComparison.Ordinal);
        await Assert.ThrowsAsync<LetheValidationException>(() => op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Text("{}"), Ct));

        Assert.Equal(before, await s.BlobNamesAsync(container, Ct));
        Assert.True((await op.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", Ct)).HasHistoryDocument);
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task A_history_document_deleted_by_its_user_is_gone_for_the_privacy_engine(DatabaseProvider database)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, BlobProvider.FileSystem), Ct);
        var contributor = await s.UserAsync("Contributor", Ct);
        await contributor.Client.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run_1", new SubmitJobRequest("iris"), Ct);
        await contributor.Client.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run_2", new SubmitJobRequest("iris"), Ct);

        await contributor.Client.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, History, Ct);

        await using var scope = s.Host.Factory.Services.CreateAsyncScope();
        var sources = scope.ServiceProvider.GetRequiredService<PersonalDataSources>();
        var keys = await sources.ResolveAsync(SubjectKeys.ForObjectId(contributor.ObjectId), Ct);
        var source = sources[WorkspacesPrivacy.HistoryDocuments.Name].Source;
        var found = await source.FindAsync(keys, Ct).ToListAsync(Ct);
        Assert.Equal(["run_2"], found.Select(f => (string?)f["jobId"]));
        var personal = await ((IPersonalBlobSource)source).BlobsAsync(keys, Ct).ToListAsync(Ct);
        Assert.Equal(["azureml/ExperimentRun/dcid.run_2/history.json"], personal.Select(b => b.Name));
    }

    [Theory]
    [MemberData(nameof(TestDatabase.Providers), MemberType = typeof(TestDatabase))]
    public async Task The_OpenAPI_document_describes_storage_downloads_and_uploads_as_raw_bytes(DatabaseProvider database)
    {
        var host = await hosts.GetAsync(database, BlobProvider.FileSystem);
        using var raw = host.Raw();

        using var document = JsonDocument.Parse(await raw.GetStringAsync(new Uri("openapi/v1.json", UriKind.Relative), Ct));

        var storage = document.RootElement.GetProperty("paths").EnumerateObject()
            .Single(p => p.Name.EndsWith("/workspaces/{workspaceName}/storage/{path}", StringComparison.Ordinal)).Value;
        Assert.True(Has(storage, "get", "responses", "200", "content", "application/octet-stream"), storage.ToString());
        Assert.True(Has(storage, "put", "requestBody", "content", "application/octet-stream"), storage.ToString());
        Assert.True(Has(storage, "delete", "responses", "204"), storage.ToString());
    }

    private static bool Has(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return false;
            }
        }
        return true;
    }
}
