using System.IO.Compression;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Workspaces;

namespace Lethe.Cli.Tests.Workspaces;

public sealed class WorkspaceCliTests(TestServer server) : IClassFixture<TestServer>
{
    private static readonly string Sub = DemoAccounts.SubscriptionId.ToString();
    private const string Group = DemoAccounts.MlResourceGroup;

    [Fact]
    public async Task Job_download_all_saves_the_outputs_and_logs_as_a_zip()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.GalleryAuthor.Email);
        var file = Path.Combine(user.ConfigDirectory, "job.zip");
        Directory.CreateDirectory(user.ConfigDirectory);

        var result = await user.RunAsync("job", "download", WorkspacesDemo.JobId, "-s", Sub, "-g", Group, "-w", WorkspacesDemo.WorkspaceName, "--all", "--dest", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("3 artifacts", result.Out, StringComparison.Ordinal);
        using var zip = ZipFile.OpenRead(file);
        Assert.Equal(["logs/std_log.txt", "outputs/metrics.json", "outputs/model/model.pkl"], zip.Entries.Select(e => e.FullName));
        Assert.False(File.Exists(file + ".partial"));
    }

    [Fact]
    public async Task Model_download_saves_the_latest_version_and_one_artifact_downloads_alone()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Contributor.Email);
        Directory.CreateDirectory(user.ConfigDirectory);
        var model = Path.Combine(user.ConfigDirectory, "model.zip");
        var log = Path.Combine(user.ConfigDirectory, "log.txt");

        var downloaded = await user.RunAsync("model", "download", "iris-model", "-s", Sub, "-g", Group, "-w", WorkspacesDemo.WorkspaceName, "--dest", model, "-o", "json");
        var one = await user.RunAsync("job", "download", WorkspacesDemo.JobId, "-s", Sub, "-g", Group, "-w", WorkspacesDemo.WorkspaceName, "--path", "logs/std_log.txt", "--dest", log);

        Assert.True(downloaded.ExitCode == 0, downloaded.ToString());
        using (var zip = ZipFile.OpenRead(model))
        {
            Assert.Equal(["conda.yaml", "model.json"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        }
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.StartsWith("epoch 1", await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_workspace_is_created_soft_deleted_recovered_and_purged()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);
        var name = $"cli-{Guid.NewGuid():N}"[..20];
        string[] target = ["-s", Sub, "-g", Group, "-w", name];

        var created = await user.RunAsync(["workspace", "create", .. target, "-l", "westeurope", "--sku", "Paid", "--retention-days", "3", "-o", "json"]);
        var deleted = await user.RunAsync(["workspace", "delete", .. target]);
        var listed = await user.RunAsync("workspace", "list", "-s", Sub, "--deleted", "-o", "json");
        var recovered = await user.RunAsync(["workspace", "recover", .. target]);
        var refused = await user.RunAsync(["workspace", "delete", .. target, "--permanently"]);
        var purged = await user.RunAsync(["workspace", "delete", .. target, "--permanently", "--yes"]);
        var after = await user.RunAsync("workspace", "list", "-s", Sub, "-o", "json");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(("Paid", 3), (created.Json<WorkspaceResource>().Sku.Name, created.Json<WorkspaceResource>().Properties.SoftDeleteRetentionInDays));
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains(listed.Json<List<WorkspaceResource>>(), w => w.Name == name);
        Assert.True(recovered.ExitCode == 0, recovered.ToString());
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.DoesNotContain(after.Json<List<WorkspaceResource>>(), w => w.Name == name);
    }

    [Fact]
    public async Task A_bad_workspace_name_exits_1_with_the_servers_message_and_a_stranger_is_told_not_found()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);
        using var stranger = new CliUser(server.Url);
        await stranger.LoginAsync(DemoAccounts.LabUser1.Email);

        var bad = await user.RunAsync("workspace", "create", "-s", Sub, "-g", Group, "-w", "no spaces!", "-l", "westeurope");
        var hidden = await stranger.RunAsync("workspace", "show", "-s", Sub, "-g", Group, "-w", WorkspacesDemo.WorkspaceName);

        Assert.Equal(ExitCodes.Failed, bad.ExitCode);
        Assert.Contains("workspaceName: A workspace name", bad.Error, StringComparison.Ordinal);
        Assert.NotEqual(0, hidden.ExitCode);
        Assert.Contains("not found", hidden.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Members_are_added_by_email_listed_and_removed_and_assets_listed_and_deleted()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);
        var name = $"cli-{Guid.NewGuid():N}"[..20];
        string[] target = ["-s", Sub, "-g", Group, "-w", name];
        Assert.Equal(0, (await user.RunAsync(["workspace", "create", .. target, "-l", "westeurope"])).ExitCode);

        var added = await user.RunAsync(["workspace", "member", "add", .. target, "--email", DemoAccounts.LabUser2.Email, "--role", "Reader", "-o", "json"]);
        var members = await user.RunAsync(["workspace", "member", "list", .. target, "-o", "json"]);
        var removed = await user.RunAsync(["workspace", "member", "remove", DemoAccounts.LabUser2.ObjectId.ToString(), .. target]);
        var after = await user.RunAsync(["workspace", "member", "list", .. target, "-o", "json"]);
        var assets = await user.RunAsync(["workspace", "asset", "list", .. target, "-k", "computes", "-o", "json"]);
        var badKind = await user.RunAsync(["workspace", "asset", "list", .. target, "-k", "widgets"]);

        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal(DemoAccounts.LabUser2.ObjectId, added.Json<WorkspaceMemberResource>().PrincipalId);
        // The creator is listed too, as the workspace's Owner.
        Assert.Contains(DemoAccounts.LabUser2.ObjectId, members.Json<List<WorkspaceMemberResource>>().Select(m => m.PrincipalId));
        Assert.Contains(members.Json<List<WorkspaceMemberResource>>(), m => m.PrincipalId != DemoAccounts.LabUser2.ObjectId && m.Role == "Owner");
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.DoesNotContain(DemoAccounts.LabUser2.ObjectId, after.Json<List<WorkspaceMemberResource>>().Select(m => m.PrincipalId));
        Assert.Empty(assets.Json<List<AssetResource>>());
        Assert.Equal(ExitCodes.Failed, badKind.ExitCode);
        Assert.Equal(0, (await user.RunAsync(["workspace", "delete", .. target, "--permanently", "--yes"])).ExitCode);
    }

    [Fact]
    public async Task Storage_is_listed_downloaded_and_a_history_document_deleted_with_confirmation()
    {
        var ct = TestContext.Current.CancellationToken;
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.WorkspaceOwner.Email);
        Directory.CreateDirectory(user.ConfigDirectory);
        var name = $"cli-{Guid.NewGuid():N}"[..20];
        string[] target = ["-s", Sub, "-g", Group, "-w", name];
        Assert.Equal(0, (await user.RunAsync(["workspace", "create", .. target, "-l", "westeurope"])).ExitCode);
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        var sdk = new LetheClient(http) { AccessToken = (await new LetheClient(http).LoginAsync(DemoAccounts.WorkspaceOwner.Email, DemoAccounts.Password, ct)).AccessToken };
        await sdk.SubmitJobAsync(DemoAccounts.SubscriptionId, Group, name, "run_1", new SubmitJobRequest("iris"), ct);
        await sdk.UploadToStorageAsync(DemoAccounts.SubscriptionId, Group, name, "datasets/iris.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()), ct);
        const string history = "azureml/ExperimentRun/dcid.run_1/history.json";
        var file = Path.Combine(user.ConfigDirectory, "history.json");

        var all = await user.RunAsync(["workspace", "storage", "ls", .. target]);
        var jobs = await user.RunAsync(["workspace", "storage", "ls", "azureml/", .. target, "-o", "json"]);
        var downloaded = await user.RunAsync(["workspace", "storage", "download", history, .. target, "--dest", file]);
        var unconfirmed = await user.RunAsync(["workspace", "storage", "delete", history, .. target]);
        var deleted = await user.RunAsync(["workspace", "storage", "delete", history, .. target, "--yes"]);
        var again = await user.RunAsync(["workspace", "storage", "delete", history, .. target, "--yes"]);
        var data = await user.RunAsync(["workspace", "storage", "delete", "datasets/iris.csv", .. target]);
        var hostile = await user.RunAsync(["workspace", "storage", "download", "datasets/../../etc/passwd", .. target]);
        var listed = await user.RunAsync(["job", "list", .. target]);

        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains(history, all.Out, StringComparison.Ordinal);
        Assert.Contains("datasets/iris.csv", all.Out, StringComparison.Ordinal);
        Assert.Equal([history], jobs.Json<List<ArtifactResource>>().Select(b => b.Path));
        Assert.True(downloaded.ExitCode == 0, downloaded.ToString());
        Assert.Contains("\"createdBy\"", await File.ReadAllTextAsync(file, ct), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, unconfirmed.ExitCode);
        Assert.Contains("--yes", unconfirmed.Error, StringComparison.Ordinal);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(ExitCodes.Failed, again.ExitCode);
        Assert.Contains("not found", again.Error, StringComparison.OrdinalIgnoreCase);
        Assert.True(data.ExitCode == 0, data.ToString());
        Assert.NotEqual(0, hostile.ExitCode);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("deleted", listed.Out, StringComparison.Ordinal);
        Assert.False((await sdk.GetJobAsync(DemoAccounts.SubscriptionId, Group, name, "run_1", ct)).HasHistoryDocument);
        Assert.Empty(await sdk.ListStorageAsync(DemoAccounts.SubscriptionId, Group, name, ct: ct));
        Assert.Equal(0, (await user.RunAsync(["workspace", "delete", .. target, "--permanently", "--yes"])).ExitCode);
    }

    [Fact]
    public async Task One_downloaded_artifact_is_counted_in_the_singular()
    {
        using var user = new CliUser(server.Url);
        await user.LoginAsync(DemoAccounts.Contributor.Email);
        Directory.CreateDirectory(user.ConfigDirectory);

        var one = await user.RunAsync("job", "download", WorkspacesDemo.JobId, "-s", Sub, "-g", Group, "-w", WorkspacesDemo.WorkspaceName, "--path", "logs/std_log.txt", "--dest", Path.Combine(user.ConfigDirectory, "log.txt"));

        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Contains(", 1 artifact)", one.Out, StringComparison.Ordinal);
    }
}
