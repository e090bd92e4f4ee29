using System.Security.Cryptography;
using Lethe.Demo;
using Lethe.Labs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests.Labs;

public sealed class LabPortalTests(PortalServer server) : IClassFixture<PortalServer>
{
    private static readonly string LabPath = $"/labs/{DemoAccounts.SubscriptionId:D}/{DemoAccounts.LabsResourceGroup}/{LabsDemo.LabName}";

    [Fact]
    public async Task The_lab_admin_sees_every_VM_and_both_cost_charts_and_exports_usage()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabAdmin);

        var response = await page.GotoAsync(LabPath);

        Assert.Equal(200, response?.Status);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        var vms = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Virtual machines", Exact = true }) }).Locator("table");
        await Expect(vms).ToContainTextAsync("lana-win11");
        await Expect(vms).ToContainTextAsync("leo-ubuntu");
        await Expect(page.Locator("figure svg")).ToHaveCountAsync(2);
        await Portal.ScreenshotAsync(page, "lab-admin");

        await page.GetByRole(AriaRole.Button, new() { Name = "Export usage" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("The export is running");
        // The export runs as a job; reloading shows its files once it is done.
        var link = page.GetByRole(AriaRole.Link, new() { Name = "Download virtualmachines.csv" }).First;
        for (var tries = 0; tries < 60 && await link.CountAsync() == 0; tries++)
        {
            await Task.Delay(500, TestContext.Current.CancellationToken);
            await page.ReloadAsync();
        }
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        var path = await download.PathAsync();
        var header = (await File.ReadAllLinesAsync(path, TestContext.Current.CancellationToken))[0];
        Assert.StartsWith("SubscriptionId,LabUId,LabName,", header, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lab_user_sees_their_personal_data_and_requests_an_export()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabUser1);

        await page.GotoAsync(LabPath);
        var vms = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Virtual machines", Exact = true }) }).Locator("table");
        await Expect(vms).ToContainTextAsync("lana-win11");
        await Expect(vms).Not.ToContainTextAsync("leo-ubuntu");
        await page.GetByRole(AriaRole.Link, new() { Name = "What this lab holds about you" }).ClickAsync();

        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        var resources = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Your object ID" }) });
        await Expect(resources).ToContainTextAsync("lana-ubuntu");
        await Expect(resources).Not.ToContainTextAsync("leo-ubuntu");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Privacy", Exact = true }).Last).ToHaveAttributeAsync("href", "/privacy");
        await page.GetByRole(AriaRole.Button, new() { Name = "Request export" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Your export is running");
        await Portal.ScreenshotAsync(page, "lab-personal-data");
    }

    [Fact]
    public async Task The_notice_link_skips_the_shutdown_without_signing_in()
    {
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            var vm = await db.LabVirtualMachines.FirstAsync(v => v.Name == "leo-ubuntu", TestContext.Current.CancellationToken);
            var at = DateTimeOffset.UtcNow.AddMinutes(20);
            db.LabShutdownNotices.Add(new LabShutdownNotice { Id = Guid.NewGuid(), VmId = vm.Id, ScheduledFor = at, ShutdownAt = at, State = ShutdownNoticeState.Notified, TokenHash = AutoShutdown.HashToken(token), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync($"/labs/shutdown/{token}?action=skip");

        Assert.Equal(200, response?.Status);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "lab-shutdown-notice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Skip this shutdown" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("This shutdown is skipped");
        await Expect(page.Locator("main")).ToContainTextAsync("Skipped");
        Assert.Equal(404, (await page.GotoAsync("/labs/shutdown/unknown-token"))?.Status);
    }
}
