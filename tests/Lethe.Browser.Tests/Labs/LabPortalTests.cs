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

    /// Issue 13, item 3: the demo server has no SMTP server; a lab user schedules their VM's shutdown in the
    /// portal, health says email is degraded, and the VM's page shows the notice with Postpone and Skip.
    [Fact]
    public async Task Without_a_mail_server_the_owner_sees_the_notice_on_the_VM_page_and_postpones_the_shutdown()
    {
        var ct = TestContext.Current.CancellationToken;
        var name = "web-" + Guid.NewGuid().ToString("N")[..8];
        var dublin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Dublin");
        // Twelve hours from now: the server's own runs never reach this shutdown during the test.
        var time = new TimeOnly((TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, dublin).Hour + 12) % 24, 0);
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabUser1);
        await page.GotoAsync(LabPath);
        await page.GetByText("Create a virtual machine").ClickAsync();
        await page.Locator("#vm-name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Created {name}");
        await page.GetByText("Notification email and shutdown time of a VM").ClickAsync();
        await page.Locator("#set-vm").SelectOptionAsync(name);
        await page.Locator("#set-time").FillAsync(time.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Saved the settings of {name}");

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var health = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("/health/ready", UriKind.Relative), ct));
        // The sweep at the notice's time (the lab's notice minutes before the shutdown).
        DateTimeOffset scheduled;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            var lab = await db.Labs.AsNoTracking().FirstAsync(l => l.Name == LabsDemo.LabName, ct);
            scheduled = AutoShutdown.NextShutdown(time, dublin, DateTimeOffset.UtcNow);
            var sweep = scope.ServiceProvider.GetServices<Lethe.Jobs.IJobHandler>().OfType<AutoShutdown>().Single();
            await sweep.RunAsync(scheduled.AddMinutes(-lab.ShutdownNoticeMinutes), ct);
        }
        await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();

        Assert.Equal("Degraded", health.RootElement.GetProperty("checks").GetProperty("email").GetString());
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        var pending = page.Locator("#pending-shutdown");
        await Expect(pending).ToContainTextAsync("Notified");
        await Expect(pending).ToContainTextAsync("no mail server configured");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Skip this shutdown" })).ToBeVisibleAsync();
        await page.GetByLabel("Postpone the shutdown to").SelectOptionAsync("120");
        await page.GetByRole(AriaRole.Button, new() { Name = "Postpone", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("postponed to 120 minutes after its scheduled time");
        await Expect(pending).ToContainTextAsync("Postponed");
        var local = TimeZoneInfo.ConvertTime(scheduled.AddMinutes(120), dublin).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
        await Expect(pending).ToContainTextAsync(local);
        await Portal.ScreenshotAsync(page, "lab-vm-shutdown");
    }

    /// Issue 13, item 9: both charts have an accessible name, and the current month shows on its first day.
    [Fact]
    public async Task The_cost_charts_have_accessible_names()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabAdmin);

        await page.GotoAsync(LabPath);

        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Estimated cost trend" })).ToHaveCountAsync(1);
        await Expect(page.GetByRole(AriaRole.Img, new() { Name = "Estimated month-to-date cost by resource" })).ToHaveCountAsync(1);
        await Expect(page.Locator("figure svg title").First).ToContainTextAsync("this month");
    }
}
