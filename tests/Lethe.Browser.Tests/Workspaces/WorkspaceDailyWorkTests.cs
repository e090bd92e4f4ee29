using Lethe.Client;
using Lethe.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests.Workspaces;

/// Issue 13, items 4 and 6: the portal does the daily work of each role that the API does, and seed 001's
/// "you can download and delete the data from the portal" for job history documents.
public sealed class WorkspaceDailyWorkTests(PortalServer server) : IClassFixture<PortalServer>
{
    private static readonly string Sub = DemoAccounts.SubscriptionId.ToString("D");
    private const string Group = DemoAccounts.MlResourceGroup;

    private static string PathOf(string workspace) => $"/workspaces/{Sub}/{Group}/{workspace}";

    /// A workspace of the test's own, made through the API by the contributor, with one job and one data file.
    private async Task<LetheClient> WorkspaceWithAJobAsync(string name, CancellationToken ct)
    {
        var http = new HttpClient { BaseAddress = server.BaseAddress };
        var api = new LetheClient(http);
        api.AccessToken = (await api.LoginAsync(DemoAccounts.Contributor.Email, DemoAccounts.Password, ct)).AccessToken;
        await api.CreateOrUpdateWorkspaceAsync(DemoAccounts.SubscriptionId, Group, name, new CreateWorkspaceRequest("westeurope"), ct);
        await api.SubmitJobAsync(DemoAccounts.SubscriptionId, Group, name, "run_1", new SubmitJobRequest("iris"), ct);
        await api.UploadToStorageAsync(DemoAccounts.SubscriptionId, Group, name, "datasets/iris.csv", new MemoryStream("a,b\n1,2\n"u8.ToArray()), ct);
        return api;
    }

    [Fact]
    public async Task A_contributor_browses_storage_downloads_a_history_document_and_deletes_it_after_confirming()
    {
        var ct = TestContext.Current.CancellationToken;
        const string name = "ws-storage";
        var api = await WorkspaceWithAJobAsync(name, ct);
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Contributor);
        await page.GotoAsync(PathOf(name));

        await page.GetByRole(AriaRole.Link, new() { Name = "Browse storage" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "datasets/" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "azureml/" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "ExperimentRun/" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "dcid.run_1/" }).ClickAsync();
        var files = page.GetByRole(AriaRole.Table, new() { Name = "Folders and files in azureml/ExperimentRun/dcid.run_1/" });
        await Expect(files.GetByRole(AriaRole.Cell, new() { Name = "history.json", Exact = true })).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-storage");

        var download = await page.RunAndWaitForDownloadAsync(() => files.GetByRole(AriaRole.Link, new() { Name = "Download history.json" }).ClickAsync());
        Assert.Equal("history.json", download.SuggestedFilename);
        var saved = Path.Combine(Path.GetTempPath(), $"lethe-history-{Guid.NewGuid():N}.json");
        await download.SaveAsAsync(saved);
        try
        {
            Assert.Contains(DemoAccounts.Contributor.Email, await File.ReadAllTextAsync(saved, ct), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(saved);
        }

        await files.GetByRole(AriaRole.Button, new() { Name = "Delete history.json" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Delete history.json?" });
        await Expect(dialog).ToContainTextAsync("The job stays, marked as having no history document.");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-storage-confirm");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete history.json" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Deleted the history document of job run_1. The job stays, marked as having no history document.");
        Assert.False((await api.GetJobAsync(DemoAccounts.SubscriptionId, Group, name, "run_1", ct)).HasHistoryDocument);
        await page.GotoAsync($"{PathOf(name)}/jobs/run_1");
        await Expect(page.Locator("dd", new() { HasText = "None: deleted from the workspace's storage" })).ToBeVisibleAsync();

        // A reader may browse and download, not delete.
        await using var readerContext = await server.NewContextAsync();
        var reader = await readerContext.NewPageAsync();
        await Portal.SignInAsync(reader, DemoAccounts.GalleryAuthor);
        await reader.GotoAsync($"{PathOf(name)}/storage?prefix=datasets%2F");
        await Expect(reader.GetByRole(AriaRole.Link, new() { Name = "Download iris.csv" })).ToBeVisibleAsync();
        await Expect(reader.GetByRole(AriaRole.Button, new() { Name = "Delete iris.csv" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_contributor_archives_restores_and_deletes_a_job_and_sees_archived_jobs()
    {
        var ct = TestContext.Current.CancellationToken;
        const string name = "ws-job-actions";
        await WorkspaceWithAJobAsync(name, ct);
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Contributor);
        await page.GotoAsync($"{PathOf(name)}/jobs/run_1");

        await page.GetByRole(AriaRole.Button, new() { Name = "Archive job" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Archived job run_1");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "run_1", Exact = true })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "Show archived jobs" }).ClickAsync();
        var jobs = page.GetByRole(AriaRole.Table, new() { Name = "Jobs, newest first (archived jobs included), page 1" });
        await Expect(jobs.GetByRole(AriaRole.Row, new() { Name = "run_1 (archived)" })).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await jobs.GetByRole(AriaRole.Link, new() { Name = "run_1", Exact = true }).ClickAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Restore job" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Restored job run_1.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete job" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Delete job run_1?" });
        await Expect(dialog).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-job-delete");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete job run_1" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Deleted job run_1 with its history document, outputs and logs.");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "run_1", Exact = true })).ToHaveCountAsync(0);
        Assert.Equal(404, (await page.APIRequest.GetAsync($"{PathOf(name)}/jobs/run_1")).Status);
    }

    [Fact]
    public async Task The_owner_creates_a_workspace_adds_and_removes_a_member_and_registers_a_data_asset()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = $"ws-new-{Guid.NewGuid():N}"[..16];
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.WorkspaceOwner);
        await page.GotoAsync("/workspaces");

        await page.GetByText("Create a workspace").ClickAsync();
        await page.GetByLabel("Resource group").SelectOptionAsync($"{Sub}/{Group}");
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Tier").SelectOptionAsync("Paid");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(name);
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Created {name}");
        var members = page.GetByRole(AriaRole.Table, new() { Name = "Users authorized on the workspace" });
        await Expect(members.GetByRole(AriaRole.Row, new() { Name = $"{DemoAccounts.WorkspaceOwner.DisplayName} {DemoAccounts.WorkspaceOwner.Email} Owner" })).ToBeVisibleAsync();

        await page.GetByText("Add a member").ClickAsync();
        await page.GetByLabel("Email of a Lethe user").FillAsync(DemoAccounts.LabUser2.Email);
        await page.GetByLabel("Role").SelectOptionAsync("Reader");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add member" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Added the member as Reader.");
        await Expect(members.GetByRole(AriaRole.Cell, new() { Name = DemoAccounts.LabUser2.DisplayName, Exact = true })).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-members");

        await members.GetByRole(AriaRole.Button, new() { Name = $"Remove {DemoAccounts.LabUser2.DisplayName}" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog, new() { Name = $"Remove {DemoAccounts.LabUser2.DisplayName}?" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = $"Remove {DemoAccounts.LabUser2.DisplayName}" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Removed the member: their access to the workspace ended.");
        await Expect(members.GetByRole(AriaRole.Cell, new() { Name = DemoAccounts.LabUser2.DisplayName, Exact = true })).ToHaveCountAsync(0);

        // A data asset registers data that is in the workspace's storage.
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var api = new LetheClient(http);
        api.AccessToken = (await api.LoginAsync(DemoAccounts.WorkspaceOwner.Email, DemoAccounts.Password, ct)).AccessToken;
        await api.UploadToStorageAsync(DemoAccounts.SubscriptionId, Group, name, "datasets/iris.csv", new MemoryStream("a,b\n"u8.ToArray()), ct);
        await page.GetByText("Register a data asset").ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("iris");
        await page.GetByLabel("Path in the workspace's storage").FillAsync("missing.csv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("There is no data at this path in the workspace's storage.");
        await page.GetByText("Register a data asset").ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("iris");
        await page.GetByLabel("Path in the workspace's storage").FillAsync("datasets/iris.csv");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Registered data asset iris.");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Data assets" }).GetByRole(AriaRole.Cell, new() { Name = "iris", Exact = true })).ToBeVisibleAsync();
        Assert.Single(await api.ListAssetsAsync(DemoAccounts.SubscriptionId, Group, name, AssetKinds.Data, ct).ToListAsync(ct));
    }

    [Fact]
    public async Task The_lab_admin_creates_a_lab()
    {
        var name = $"lab-{Guid.NewGuid():N}"[..12];
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabAdmin);
        await page.GotoAsync("/labs");

        await page.GetByText("Create a lab").ClickAsync();
        await page.GetByLabel("Resource group").SelectOptionAsync($"{Sub}/{DemoAccounts.LabsResourceGroup}");
        await page.GetByLabel("Name").FillAsync(name);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create lab" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Lab {name}");
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Created lab {name}.");
        await page.GotoAsync("/labs");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Text_in_the_url_is_never_shown_as_a_message()
    {
        const string forged = "Your account is locked: call +1 555 0100 and give your password";
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.WorkspaceOwner);

        foreach (var path in new[] { "/workspaces/deleted", PathOf(WorkspacesDemoName), "/workspaces", "/labs" })
        {
            await page.GotoAsync($"{path}?done={Uri.EscapeDataString(forged)}&message={Uri.EscapeDataString(forged)}&Message={Uri.EscapeDataString(forged)}");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
            await Expect(page.GetByRole(AriaRole.Status)).ToHaveCountAsync(0);
            Assert.DoesNotContain("call +1 555", await page.ContentAsync(), StringComparison.Ordinal);
        }
    }

    private const string WorkspacesDemoName = Lethe.Workspaces.WorkspacesDemo.WorkspaceName;
}
