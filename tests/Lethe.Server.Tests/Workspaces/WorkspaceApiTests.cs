using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lethe.Blobs;
using Lethe.Client;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Tests.Workspaces;

public sealed partial class WorkspaceApiTests(WorkspaceHosts hosts) : IClassFixture<WorkspaceHosts>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static MemoryStream Text(string text) => new(Encoding.UTF8.GetBytes(text));

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_workspace_is_created_with_its_companion_resources(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct, request: new CreateWorkspaceRequest("WestEurope", new ArmSku("Paid"), 7));

        var ws = await s.Operator.GetWorkspaceAsync(s.SubscriptionId, "ML-RG", "WS-MAIN", Ct);

        Assert.Equal(s.WorkspaceScope, ws.Id);
        Assert.Equal(("westeurope", "Paid", 7, "Succeeded"), (ws.Location, ws.Sku.Name, ws.Properties.SoftDeleteRetentionInDays, ws.Properties.ProvisioningState));
        Assert.StartsWith($"{s.Scope}/providers/Microsoft.Storage/storageAccounts/wsmain", ws.Properties.StorageAccount, StringComparison.Ordinal);
        Assert.StartsWith($"{s.Scope}/providers/Microsoft.ContainerRegistry/registries/wsmain", ws.Properties.ContainerRegistry, StringComparison.Ordinal);
        Assert.StartsWith($"{s.Scope}/providers/Microsoft.Insights/components/wsmain-insights-", ws.Properties.ApplicationInsights, StringComparison.Ordinal);
        Assert.StartsWith($"{s.Scope}/providers/Microsoft.KeyVault/vaults/kvwsmain", ws.Properties.KeyVault, StringComparison.Ordinal);
        var companions = await s.Operator.ListCompanionResourcesAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        Assert.Equal(
            ["Microsoft.Storage/storageAccounts", "Microsoft.ContainerRegistry/registries", "Microsoft.Insights/components", "Microsoft.KeyVault/vaults"],
            companions.Select(c => c.Type));
        Assert.Equal([ws.Properties.StorageAccount, ws.Properties.ContainerRegistry, ws.Properties.ApplicationInsights, ws.Properties.KeyVault], companions.Select(c => c.Id));
        Assert.Equal([ws.Id], (await s.Operator.ListWorkspacesAsync(s.SubscriptionId, s.Group, Ct).ToListAsync(Ct)).Select(w => w.Id));
        Assert.Equal([ws.Id], (await s.Operator.ListWorkspacesAsync(s.SubscriptionId, ct: Ct).ToListAsync(Ct)).Select(w => w.Id));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Readers_read_contributors_change_owners_delete_and_strangers_see_nothing(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var reader = await s.UserAsync("Reader", Ct);
        var contributor = await s.UserAsync("Contributor", Ct);
        var stranger = await s.Host.NewUserAsync(Ct);

        Assert.Equal(s.Name, (await reader.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct)).Name);
        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, "cpu", new PutAssetRequest(), Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "job1", new SubmitJobRequest("exp"), Ct));
        await contributor.Client.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, "cpu", new PutAssetRequest("A cluster", Properties: new Dictionary<string, string> { ["vmSize"] = "STANDARD_DS3_V2" }), Ct);
        Assert.Equal(["cpu"], (await reader.Client.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, Ct).ToListAsync(Ct)).Select(a => a.Name));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => contributor.Client.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => contributor.Client.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));

        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<LetheNotFoundException>(() => stranger.Client.ListWorkspacesAsync(s.SubscriptionId, ct: Ct).ToListAsync(Ct).AsTask());

        await s.Operator.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        Assert.Empty(await s.Operator.ListWorkspacesAsync(s.SubscriptionId, ct: Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Bad_input_is_a_problem_and_writes_nothing(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var container = await s.ContainerAsync(Ct);
        var before = await s.BlobNamesAsync(container, Ct);
        var op = s.Operator;

        var badName = await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "bad name!", new CreateWorkspaceRequest("westeurope"), Ct));
        Assert.Contains("workspaceName", badName.Errors!.Keys);
        await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-two", new CreateWorkspaceRequest("westeurope", SoftDeleteRetentionInDays: 15), Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-two", new CreateWorkspaceRequest("west europe"), Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "a.b", new SubmitJobRequest("exp"), Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "d", new PutAssetRequest(Path: "azureml/x"), Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "d", new PutAssetRequest(Path: "missing.csv"), Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, "widgets", Ct).ToListAsync(Ct).AsTask());
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetWorkspaceAsync(s.SubscriptionId, s.Group, "no-such-ws", Ct));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "no-such-job", Ct));
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "job1", new SubmitJobRequest("exp"), Ct);
        await Assert.ThrowsAsync<LetheValidationException>(() => op.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "job1", "secrets/x.txt", Text("x"), Ct));
        await Assert.ThrowsAsync<LetheConflictException>(() => op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "JOB1", new SubmitJobRequest("exp"), Ct));

        // Raw requests the SDK refuses to build: traversal in job IDs and artifact paths, malformed IDs.
        using var raw = s.Host.Raw(op.AccessToken);
        var ws = LetheClient.WorkspacePath(s.SubscriptionId, s.Group, s.Name);
        foreach (var (method, url) in new[]
        {
            (HttpMethod.Get, $"{ws}/jobs/..%2F..%2Fetc/artifacts"),
            (HttpMethod.Put, $"{ws}/jobs/job1/artifacts/outputs/..%2F..%2F..%2Fhistory.json"),
            (HttpMethod.Get, $"{ws}/jobs/job1/artifacts/outputs%2F..%2F..%2Fdcid.job1%2Fhistory.json"),
            (HttpMethod.Put, $"{ws}/storage/data%5C..%5Cx"),
            (HttpMethod.Get, $"subscriptions/not-a-guid/resourceGroups/ml-rg/providers/Microsoft.MachineLearningServices/workspaces/{s.Name}"),
            (HttpMethod.Get, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/bad%20rg/providers/Microsoft.MachineLearningServices/workspaces/{s.Name}"),
        })
        {
            using var request = new HttpRequestMessage(method, url) { Content = method == HttpMethod.Put ? new StringContent("evil") : null };
            using var response = await raw.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal([.. before, "azureml/ExperimentRun/dcid.job1/history.json"], await s.BlobNamesAsync(container, Ct));
        Assert.Equal([s.Name], (await op.ListWorkspacesAsync(s.SubscriptionId, ct: Ct).ToListAsync(Ct)).Select(w => w.Name));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_job_keeps_its_history_document_outputs_and_logs_until_it_is_deleted(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var contributor = await s.UserAsync("Contributor", Ct);
        var reader = await s.UserAsync("Reader", Ct);
        var c = contributor.Client;
        var container = await s.ContainerAsync(Ct);

        var job = await c.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "run_42", new SubmitJobRequest("iris", "First run", new Dictionary<string, string> { ["lr"] = "0.1" }), Ct);
        await c.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run_42", "outputs/metrics.json", Text("""{"acc":0.9}"""), Ct);
        await c.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run_42", "outputs/model/weights.bin", new MemoryStream(new byte[300_000]), Ct);
        await c.UploadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run_42", "logs/std_log.txt", Text("epoch 1"), Ct);

        Assert.Equal((contributor.ObjectId, "iris", "First run", "0.1", false), (job.SubmittedBy, job.ExperimentName, job.DisplayName, job.Parameters["lr"], job.Archived));
        await using (var history = await s.Blobs.OpenReadAsync(container, "azureml/ExperimentRun/dcid.run_42/history.json", Ct))
        {
            var doc = await JsonDocument.ParseAsync(history, cancellationToken: Ct);
            var user = doc.RootElement.GetProperty("createdBy");
            Assert.Equal(contributor.Email, user.GetProperty("userEmail").GetString());
            Assert.Equal(contributor.ObjectId, user.GetProperty("userObjectId").GetGuid());
            Assert.False(string.IsNullOrEmpty(user.GetProperty("userName").GetString()));
        }
        var artifacts = await reader.Client.ListArtifactsAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct);
        Assert.Equal(["logs/std_log.txt", "outputs/metrics.json", "outputs/model/weights.bin"], artifacts.Select(a => a.Path));
        Assert.Equal(300_000, artifacts[2].Length);
        using (var one = await reader.Client.DownloadArtifactAsync(s.SubscriptionId, s.Group, s.Name, "run_42", "outputs/metrics.json", Ct))
        {
            Assert.Equal("""{"acc":0.9}""", await one.Content.ReadAsStringAsync(Ct));
        }
        using (var all = await reader.Client.DownloadAllArtifactsAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct))
        {
            Assert.Equal("application/zip", all.Content.Headers.ContentType?.MediaType);
            await using var zipStream = await all.Content.ReadAsStreamAsync(Ct);
            var copy = new MemoryStream();
            await zipStream.CopyToAsync(copy, Ct);
            copy.Position = 0;
            using var zip = new ZipArchive(copy, ZipArchiveMode.Read);
            Assert.Equal(["logs/std_log.txt", "outputs/metrics.json", "outputs/model/weights.bin"], zip.Entries.Select(e => e.FullName));
            using var reader2 = new StreamReader(zip.GetEntry("logs/std_log.txt")!.Open());
            Assert.Equal("epoch 1", await reader2.ReadToEndAsync(Ct));
            Assert.Equal(300_000, zip.GetEntry("outputs/model/weights.bin")!.Length);
        }

        await c.ArchiveJobAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct);
        Assert.Empty(await c.ListJobsAsync(s.SubscriptionId, s.Group, s.Name, ct: Ct).ToListAsync(Ct));
        Assert.True(Assert.Single(await c.ListJobsAsync(s.SubscriptionId, s.Group, s.Name, includeArchived: true, Ct).ToListAsync(Ct)).Archived);
        Assert.Equal(4, (await s.BlobNamesAsync(container, Ct)).Count(n => n.StartsWith("azureml/ExperimentRun/dcid.run_42/", StringComparison.Ordinal)));

        await Assert.ThrowsAsync<LetheForbiddenException>(() => reader.Client.DeleteJobAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct));
        await c.DeleteJobAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct);

        await Assert.ThrowsAsync<LetheNotFoundException>(() => c.GetJobAsync(s.SubscriptionId, s.Group, s.Name, "run_42", Ct));
        Assert.DoesNotContain(await s.BlobNamesAsync(container, Ct), n => n.StartsWith("azureml/", StringComparison.Ordinal));
        Assert.DoesNotContain(await s.DeletedBlobNamesAsync(container, Ct), n => n.StartsWith("azureml/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Assets_of_every_kind_register_and_delete_and_unregistering_data_keeps_it(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Text("a,b\n1,2\n"), Ct);
        await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "iris", new PutAssetRequest("Iris", "datasets/iris.csv"), Ct);
        foreach (var kind in new[] { AssetKinds.Notebooks, AssetKinds.Pipelines, AssetKinds.Computes, AssetKinds.Experiments })
        {
            await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, kind, $"my-{kind}", new PutAssetRequest(), Ct);
        }
        var v1 = await op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", new Dictionary<string, Stream> { ["model.pkl"] = Text("v1"), ["conf/settings.json"] = Text("{}") }, "first", Ct);
        var v2 = await op.RegisterModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", new Dictionary<string, Stream> { ["model.pkl"] = Text("v2") }, ct: Ct);

        Assert.Equal((1, 2), (v1.Version, v2.Version));
        Assert.Equal([1, 2], (await op.ListModelVersionsAsync(s.SubscriptionId, s.Group, s.Name, "clf", Ct).ToListAsync(Ct)).Select(m => m.Version));
        using (var download = await op.DownloadModelAsync(s.SubscriptionId, s.Group, s.Name, "clf", 1, Ct))
        {
            var copy = new MemoryStream();
            await (await download.Content.ReadAsStreamAsync(Ct)).CopyToAsync(copy, Ct);
            copy.Position = 0;
            using var zip = new ZipArchive(copy, ZipArchiveMode.Read);
            Assert.Equal(["conf/settings.json", "model.pkl"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        }

        await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, "iris", Ct);
        Assert.Empty(await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Data, Ct).ToListAsync(Ct));
        Assert.Contains("datasets/iris.csv", await s.BlobNamesAsync(container, Ct));
        await op.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/iris.csv", Ct);
        Assert.DoesNotContain("datasets/iris.csv", await s.BlobNamesAsync(container, Ct));

        foreach (var kind in new[] { AssetKinds.Notebooks, AssetKinds.Pipelines, AssetKinds.Computes, AssetKinds.Experiments })
        {
            await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, kind, $"my-{kind}", Ct);
            Assert.Empty(await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, kind, Ct).ToListAsync(Ct));
        }
        await op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Models, "clf", Ct);
        Assert.Empty(await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Models, Ct).ToListAsync(Ct));
        Assert.DoesNotContain(await s.BlobNamesAsync(container, Ct), n => n.StartsWith("models/", StringComparison.Ordinal));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.DeleteAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Models, "clf", Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_soft_deleted_workspace_keeps_its_name_and_is_recovered_with_its_assets_and_blobs(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/kept.csv", Text("x"), Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/gone.csv", Text("y"), Ct);
        await op.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/gone.csv", Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "job1", new SubmitJobRequest("exp"), Ct);
        await op.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, "cpu", new PutAssetRequest(), Ct);
        var live = await s.BlobNamesAsync(container, Ct);

        await op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);

        await Assert.ThrowsAsync<LetheNotFoundException>(() => op.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        var deleted = Assert.Single(await op.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
        Assert.Equal(("SoftDeleted", 14), (deleted.Properties.ProvisioningState, (deleted.Properties.ScheduledPurgeDate!.Value - deleted.Properties.SoftDeletedAt!.Value).Days));
        await Assert.ThrowsAsync<LetheConflictException>(() => op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, s.Name.ToUpperInvariant(), new CreateWorkspaceRequest("westeurope"), Ct));

        var recovered = await op.RecoverWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);

        Assert.Equal("Succeeded", recovered.Properties.ProvisioningState);
        Assert.Equal(live, await s.BlobNamesAsync(container, Ct));
        Assert.Equal(["datasets/gone.csv"], await s.DeletedBlobNamesAsync(container, Ct));
        Assert.Single(await op.ListJobsAsync(s.SubscriptionId, s.Group, s.Name, ct: Ct).ToListAsync(Ct));
        Assert.Single(await op.ListAssetsAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, Ct).ToListAsync(Ct));
        Assert.Empty(await op.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task A_purge_removes_every_row_and_blob_and_respects_purge_protection(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        var member = await s.Host.NewUserAsync(Ct);
        await op.AddWorkspaceMemberAsync(s.SubscriptionId, s.Group, s.Name, new AddWorkspaceMemberRequest("Reader", member.ObjectId), Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "job1", new SubmitJobRequest("exp"), Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/a.csv", Text("x"), Ct);
        await op.UploadToStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/b.csv", Text("x"), Ct);
        await op.DeleteFromStorageAsync(s.SubscriptionId, s.Group, s.Name, "datasets/b.csv", Ct);
        await op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        var workspaceId = await s.Host.WithDbAsync(db => db.Workspaces.Where(w => w.SubscriptionId == s.SubscriptionId).Select(w => w.Id).SingleAsync(Ct));

        var operation = await op.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        var status = await op.WaitForOperationAsync(operation, pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);

        Assert.Equal(OperationStates.Succeeded, status.Status);
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.Empty(await s.DeletedBlobNamesAsync(container, Ct));
        Assert.Empty(await op.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
        var rows = await s.Host.WithDbAsync(async db => (
            await db.Workspaces.CountAsync(w => w.SubscriptionId == s.SubscriptionId, Ct),
            await db.ExperimentRuns.CountAsync(r => r.WorkspaceId == workspaceId, Ct),
            await db.WorkspaceMembers.CountAsync(m => m.PrincipalId == member.ObjectId, Ct),
            await db.RoleAssignments.CountAsync(a => a.PrincipalId == member.ObjectId, Ct)));
        Assert.Equal((0, 0, 0, 0), rows);
        // The name is free again.
        await op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, new CreateWorkspaceRequest("westeurope", EnablePurgeProtection: true), Ct);

        await Assert.ThrowsAsync<LetheConflictException>(() => op.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        await op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);
        await Assert.ThrowsAsync<LetheConflictException>(() => op.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        Assert.Single(await op.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task The_purger_role_purges_a_soft_deleted_workspace_but_cannot_change_or_soft_delete(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var purger = await s.UserAsync("Purger", Ct);

        Assert.Equal(s.Name, (await purger.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct)).Name);
        await Assert.ThrowsAsync<LetheForbiddenException>(() => purger.Client.PutAssetAsync(s.SubscriptionId, s.Group, s.Name, AssetKinds.Computes, "cpu", new PutAssetRequest(), Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => purger.Client.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        await s.Operator.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);

        var operation = await purger.Client.PurgeWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct);

        Assert.Equal(OperationStates.Succeeded, (await purger.Client.WaitForOperationAsync(operation, pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct)).Status);
        Assert.Empty(await s.Operator.ListDeletedWorkspacesAsync(s.SubscriptionId, Ct).ToListAsync(Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Workspace_lists_page_with_a_next_link_that_the_sdk_follows(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        foreach (var name in new[] { "ws-page-a", "ws-page-b" })
        {
            await s.Operator.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, name, new CreateWorkspaceRequest("westeurope"), Ct);
        }
        using var http = s.Host.Raw(s.Operator.AccessToken);
        var path = $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}/providers/Microsoft.MachineLearningServices/workspaces";

        using var first = await http.GetAsync(new Uri(path + "?$top=2", UriKind.Relative), Ct);
        using var tooMany = await http.GetAsync(new Uri(path + "?$top=1001", UriKind.Relative), Ct);
        var page = await first.Content.ReadFromJsonAsync<ArmList<WorkspaceResource>>(LetheClient.Json, Ct);
        var all = await s.Operator.ListWorkspacesAsync(s.SubscriptionId, s.Group, Ct).ToListAsync(Ct);

        Assert.Equal(2, page!.Value.Count);
        Assert.NotNull(page.NextLink);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(new[] { s.Name, "ws-page-a", "ws-page-b" }.Order(StringComparer.Ordinal), all.Select(w => w.Name).Order(StringComparer.Ordinal));
    }

    private static readonly Guid DemoOperator = Demo.DemoAccounts.Operator.ObjectId;

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Deleting_the_resource_group_purges_its_workspaces(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var container = await s.ContainerAsync(Ct);
        await op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-soft", new CreateWorkspaceRequest("westeurope"), Ct);
        await op.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "job1", new SubmitJobRequest("exp"), Ct);
        await op.DeleteWorkspaceAsync(s.SubscriptionId, s.Group, "ws-soft", Ct);

        using var response = await op.SendRawAsync(HttpMethod.Delete, $"subscriptions/{s.SubscriptionId:D}/resourceGroups/{s.Group}", null, Ct);
        var status = await op.WaitForOperationAsync(response.Headers.GetValues("Azure-AsyncOperation").First(), pollInterval: TimeSpan.FromMilliseconds(100), ct: Ct);

        Assert.Equal(OperationStates.Succeeded, status.Status);
        Assert.Equal(0, await s.Host.WithDbAsync(db => db.Workspaces.CountAsync(w => w.SubscriptionId == s.SubscriptionId, Ct)));
        Assert.Empty(await s.BlobNamesAsync(container, Ct));
        Assert.Empty(await s.DeletedBlobNamesAsync(container, Ct));
    }

    [Theory]
    [MemberData(nameof(WorkspaceHosts.Backends), MemberType = typeof(WorkspaceHosts))]
    public async Task Members_get_access_with_their_role_and_lose_it_when_removed_and_actions_are_recorded(DatabaseProvider database, BlobProvider blobs)
    {
        var s = await WorkspaceScenario.CreateAsync(await hosts.GetAsync(database, blobs), Ct);
        var op = s.Operator;
        var user = await s.Host.NewUserAsync(Ct);
        // Another workspace in the same group, which membership of the first does not reach.
        await op.CreateOrUpdateWorkspaceAsync(s.SubscriptionId, s.Group, "ws-other", new CreateWorkspaceRequest("westeurope"), Ct);
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));

        var added = await op.AddWorkspaceMemberAsync(s.SubscriptionId, s.Group, s.Name, new AddWorkspaceMemberRequest("Contributor", Email: user.Email.ToUpperInvariant()), Ct);

        Assert.Equal((user.ObjectId, user.Email, "Contributor"), (added.PrincipalId, added.Email, added.Role));
        await user.Client.SubmitJobAsync(s.SubscriptionId, s.Group, s.Name, "by-member", new SubmitJobRequest("exp"), Ct);
        Assert.Equal([s.Name], (await user.Client.ListWorkspacesAsync(s.SubscriptionId, ct: Ct).ToListAsync(Ct)).Select(w => w.Name));
        Assert.Equal([s.Name, "ws-other"], (await op.ListWorkspacesAsync(s.SubscriptionId, s.Group, Ct).ToListAsync(Ct)).Select(w => w.Name));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, "ws-other", Ct));
        await Assert.ThrowsAsync<LetheForbiddenException>(() => user.Client.AddWorkspaceMemberAsync(s.SubscriptionId, s.Group, s.Name, new AddWorkspaceMemberRequest("Owner", user.ObjectId), Ct));
        await Assert.ThrowsAsync<LetheValidationException>(() => op.AddWorkspaceMemberAsync(s.SubscriptionId, s.Group, s.Name, new AddWorkspaceMemberRequest("LabUser", user.ObjectId), Ct));
        // The creator (the operator here) is listed as the workspace's Owner, beside the member.
        Assert.Equal([(DemoOperator, "Owner"), (user.ObjectId, "Contributor")],
            (await op.ListWorkspaceMembersAsync(s.SubscriptionId, s.Group, s.Name, Ct)).Select(m => (m.PrincipalId, m.Role)).OrderBy(m => m.Role, StringComparer.Ordinal).Reverse());

        await op.RemoveWorkspaceMemberAsync(s.SubscriptionId, s.Group, s.Name, user.ObjectId, Ct);

        Assert.Equal([DemoOperator], (await op.ListWorkspaceMembersAsync(s.SubscriptionId, s.Group, s.Name, Ct)).Select(m => m.PrincipalId));
        await Assert.ThrowsAsync<LetheNotFoundException>(() => user.Client.GetWorkspaceAsync(s.SubscriptionId, s.Group, s.Name, Ct));
        var events = await s.Host.WithDbAsync(db => db.TelemetryEvents.Where(e => e.UserId == user.ObjectId).OrderBy(e => e.OccurredAt).Select(e => e.Action).ToListAsync(Ct));
        Assert.Equal(["workspaces.SubmitJob", "workspaces.ListWorkspacesBySubscription"], events);
        var opEvents = await s.Host.WithDbAsync(db => db.TelemetryEvents.Where(e => e.UserId == DemoOperator && e.Resource.StartsWith("/subscriptions/" + s.SubscriptionId.ToString("D"))).Select(e => e.Action).ToListAsync(Ct));
        Assert.Contains("workspaces.AddWorkspaceMember", opEvents);
        Assert.Contains("workspaces.RemoveWorkspaceMember", opEvents);
        Assert.Contains("workspaces.CreateOrUpdateWorkspace", opEvents);
        // Telemetry keeps the route's template and the workspace's ID, never the path that named the member.
        var removal = await s.Host.WithDbAsync(db => db.TelemetryEvents.SingleAsync(e => e.UserId == DemoOperator && e.Action == "workspaces.RemoveWorkspaceMember" && e.Resource.StartsWith("/subscriptions/" + s.SubscriptionId.ToString("D")), Ct));
        Assert.EndsWith("/members/{principalId}", removal.Route, StringComparison.Ordinal);
        Assert.EndsWith("/workspaces/" + s.Name, removal.Resource, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(user.ObjectId.ToString("D"), removal.Resource, StringComparison.OrdinalIgnoreCase);
    }
}
