using System.IO.Compression;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Server.Portal.Workspaces;
using Lethe.Workspaces;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests.Workspaces;

public sealed class WorkspacePortalTests(PortalServer server) : IClassFixture<PortalServer>
{
    private static readonly string WorkspacePath = $"/workspaces/{DemoAccounts.SubscriptionId:D}/{DemoAccounts.MlResourceGroup}/{WorkspacesDemo.WorkspaceName}";

    [Fact]
    public async Task A_contributor_deletes_an_asset_after_confirming()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Contributor);
        await page.GotoAsync("/workspaces");
        await page.GetByRole(AriaRole.Link, new() { Name = WorkspacesDemo.WorkspaceName }).ClickAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace");
        var pipelines = page.GetByRole(AriaRole.Table, new() { Name = "Pipelines" });
        await Expect(pipelines.GetByRole(AriaRole.Cell, new() { Name = "train-pipeline", Exact = true })).ToBeVisibleAsync();

        await pipelines.GetByRole(AriaRole.Button, new() { Name = "Delete train-pipeline" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Delete train-pipeline?" });
        await Expect(dialog).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete train-pipeline" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Deleted train-pipeline.");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Pipelines" })).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "Compute" }).GetByRole(AriaRole.Cell, new() { Name = "cpu-cluster", Exact = true })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_reader_downloads_all_outputs_and_logs_of_a_job_as_a_zip()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor);
        await page.GotoAsync(WorkspacePath);
        await page.GetByRole(AriaRole.Link, new() { Name = WorkspacesDemo.JobId }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Job {WorkspacesDemo.JobId}");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-job");
        // A reader sees no delete buttons on the workspace, and may download.
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Download logs/std_log.txt" })).ToBeVisibleAsync();

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download all" }).ClickAsync());

        Assert.Equal($"{WorkspacesDemo.JobId}.zip", download.SuggestedFilename);
        var file = Path.Combine(Path.GetTempPath(), $"lethe-download-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(file);
        try
        {
            using var zip = ZipFile.OpenRead(file);
            Assert.Equal(["logs/std_log.txt", "outputs/metrics.json", "outputs/model/model.pkl"], zip.Entries.Select(e => e.FullName));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_reader_opens_a_model_and_downloads_a_version()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor);
        await page.GotoAsync(WorkspacePath);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Delete workspace" })).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Link, new() { Name = "iris-model", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Model iris-model");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-model");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download version 1" }).ClickAsync());

        Assert.Equal("iris-model-1.zip", download.SuggestedFilename);
        var file = Path.Combine(Path.GetTempPath(), $"lethe-model-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(file);
        try
        {
            using var zip = ZipFile.OpenRead(file);
            Assert.Equal(["conda.yaml", "model.json"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_owner_soft_deletes_the_workspace_then_recovers_it()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.WorkspaceOwner);
        await page.GotoAsync(WorkspacePath);

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete workspace" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Alertdialog, new() { Name = $"Delete {WorkspacesDemo.WorkspaceName}?" });
        await Expect(dialog).ToContainTextAsync("can be recovered for 14 days");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete workspace" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Deleted workspaces");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspaces-deleted");
        Assert.Equal(404, (await page.APIRequest.GetAsync(WorkspacePath)).Status);

        await page.GetByRole(AriaRole.Button, new() { Name = $"Recover {WorkspacesDemo.WorkspaceName}" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Recovered {WorkspacesDemo.WorkspaceName}");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = WorkspacesDemo.JobId })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = WorkspacesDemo.JobId }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Download all" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task The_jobs_of_a_workspace_page_with_older_and_newer_links()
    {
        var ct = TestContext.Current.CancellationToken;
        // A workspace of its own with one job more than a page, submitted through the API.
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        var api = new LetheClient(http);
        await api.LoginAsync(DemoAccounts.Contributor.Email, DemoAccounts.Password, ct);
        const string name = "ws-job-pages";
        await api.CreateOrUpdateWorkspaceAsync(DemoAccounts.SubscriptionId, DemoAccounts.MlResourceGroup, name, new CreateWorkspaceRequest("westeurope"), ct);
        var ids = Enumerable.Range(1, WorkspaceModel.JobsPageSize + 1).Select(i => $"paged-{i:D2}").ToList();
        foreach (var id in ids)
        {
            await api.SubmitJobAsync(DemoAccounts.SubscriptionId, DemoAccounts.MlResourceGroup, name, id, new SubmitJobRequest("exp"), ct);
        }
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Contributor);

        await page.GotoAsync($"/workspaces/{DemoAccounts.SubscriptionId:D}/{DemoAccounts.MlResourceGroup}/{name}");
        var pages = page.GetByRole(AriaRole.Navigation, new() { Name = "Jobs pages" });
        var jobs = page.GetByRole(AriaRole.Table, new() { Name = "Jobs, newest first (archived jobs are hidden), page 1" });
        await Expect(jobs.GetByRole(AriaRole.Link)).ToHaveCountAsync(WorkspaceModel.JobsPageSize);
        await Expect(jobs.GetByRole(AriaRole.Link, new() { Name = ids[^1], Exact = true })).ToBeVisibleAsync();
        await Expect(pages.GetByRole(AriaRole.Link, new() { Name = "Newer jobs" })).ToHaveCountAsync(0);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));

        await pages.GetByRole(AriaRole.Link, new() { Name = "Older jobs" }).ClickAsync();

        var older = page.GetByRole(AriaRole.Table, new() { Name = "Jobs, newest first (archived jobs are hidden), page 2" });
        await Expect(older.GetByRole(AriaRole.Link)).ToHaveCountAsync(1);
        await Expect(older.GetByRole(AriaRole.Link, new() { Name = ids[0], Exact = true })).ToBeVisibleAsync();
        await Expect(pages.GetByRole(AriaRole.Link, new() { Name = "Older jobs" })).ToHaveCountAsync(0);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "workspace-jobs-page-2");
        await pages.GetByRole(AriaRole.Link, new() { Name = "Newer jobs" }).ClickAsync();
        await Expect(jobs.GetByRole(AriaRole.Link)).ToHaveCountAsync(WorkspaceModel.JobsPageSize);
    }
}
