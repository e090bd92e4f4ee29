using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lethe.Client;
using Lethe.Demo;
using Lethe.Privacy.Requests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests.Privacy;

/// Issue 11 in the portal: a person's My data (counts, export, delete with a preview first) and a privacy officer's
/// Requests queue. Each test uses its own demo person, so that an erasure leaves the others' data alone.
public sealed partial class PrivacyPortalTests(PortalServer server) : IClassFixture<PortalServer>
{
    // An export or an erasure runs as a job through every place of the map; two busy cores take their time.
    private static readonly LocatorAssertionsToHaveTextOptions UntilDone = new() { Timeout = 120_000 };

    [GeneratedRegex("/privacy/my-data$")]
    private static partial Regex MyDataUrl();

    [GeneratedRegex("/privacy/my-data/requests/[0-9a-f-]{36}$")]
    private static partial Regex MyRequestUrl();

    [GeneratedRegex("/privacy/my-data/erase/[0-9a-f-]{36}$")]
    private static partial Regex EraseUrl();

    [GeneratedRegex("/privacy/officer/requests/[0-9a-f-]{36}$")]
    private static partial Regex OfficerRequestUrl();

    [GeneratedRegex("/account/denied")]
    private static partial Regex DeniedUrl();

    [GeneratedRegex("/account/login")]
    private static partial Regex LoginUrl();

    [Fact]
    public async Task A_user_sees_what_Lethe_holds_exports_it_and_downloads_a_bundle_that_verifies()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabUser1);
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });

        await nav.GetByRole(AriaRole.Link, new() { Name = "My data" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(MyDataUrl());
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Expect(nav.Locator("[aria-current=page]")).ToHaveTextAsync("My data");
        // Only privacy officers have the queue.
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "Requests" })).ToHaveCountAsync(0);
        var held = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "What Lethe holds about you" }) });
        await Expect(held.GetByRole(AriaRole.Row).Filter(new() { HasText = "Identity" })).ToContainTextAsync("AspNetUsers");
        var labs = held.GetByRole(AriaRole.Row).Filter(new() { HasText = "LabVirtualMachines" });
        await Expect(labs).ToContainTextAsync("Labs");
        Assert.Matches("[1-9]", await labs.Locator("td.number").InnerTextAsync());
        await Portal.ScreenshotAsync(page, "privacy-my-data");

        await page.GetByRole(AriaRole.Button, new() { Name = "Export my data" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(MyRequestUrl());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your export");
        // The page refreshes itself while the job runs.
        await Expect(page.Locator(".status")).ToHaveTextAsync("Completed", UntilDone);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        var link = page.GetByRole(AriaRole.Link, new() { Name = "Download your data" });
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        var path = await download.PathAsync();

        var verification = await BundleVerifier.VerifyAsync(path, ct);
        Assert.Empty(verification.Problems);
        Assert.Contains("index.html", await ManifestPathsAsync(path, ct));
        await Portal.ScreenshotAsync(page, "privacy-my-export");

        // My data lists the export with its download.
        await page.GotoAsync("/privacy/my-data");
        var row = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "My requests" }) }).GetByRole(AriaRole.Row).Filter(new() { HasText = "Export" });
        await Expect(row).ToContainTextAsync("Completed");
        await Expect(row.GetByRole(AriaRole.Link, new() { Name = "Download" })).ToBeVisibleAsync();

        // The officer's queue is not for everyone: the standard access denied page.
        await page.GotoAsync("/privacy/officer/requests");
        await Expect(page).ToHaveURLAsync(DeniedUrl());
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("@lethe.demo", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task A_user_confirms_erasure_after_its_preview_an_officer_approves_it_and_the_user_can_no_longer_sign_in()
    {
        var subject = DemoAccounts.LabUser2;
        await using var userContext = await server.NewContextAsync();
        var user = await userContext.NewPageAsync();
        await Portal.SignInAsync(user, subject);
        await user.GotoAsync("/privacy/my-data");

        await user.GetByRole(AriaRole.Button, new() { Name = "Delete my data" }).ClickAsync();

        // The dry run first: the confirmation page shows what would happen, place by place.
        await Expect(user).ToHaveURLAsync(EraseUrl());
        var preview = user.Locator("section", new() { Has = user.GetByRole(AriaRole.Heading, new() { Name = "What the erasure would do" }) });
        await Expect(preview.Locator("table")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await Expect(preview.GetByRole(AriaRole.Row).Filter(new() { HasText = "AspNetUsers" })).ToContainTextAsync("Deleted");
        // Seed 002: the lab keeps a deleted VM's owner for its period, then anonymizes it.
        await Expect(preview.GetByRole(AriaRole.Row).Filter(new() { HasText = "LabVirtualMachines" })).ToContainTextAsync("then anonymized");
        await Expect(user.GetByRole(AriaRole.Group, new() { Name = "Erase your data?" })).ToContainTextAsync("signed out");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(user));
        await Portal.ScreenshotAsync(user, "privacy-erase-preview");

        await user.GetByRole(AriaRole.Button, new() { Name = "Yes, erase my data" }).ClickAsync();

        await Expect(user).ToHaveURLAsync(MyRequestUrl());
        await Expect(user.GetByRole(AriaRole.Status)).ToContainTextAsync("A privacy officer must approve it");
        await Expect(user.Locator(".status")).ToHaveTextAsync("Waiting for a privacy officer's approval");
        var id = Guid.Parse(user.Url.Split('/')[^1]);
        var handle = id.ToString("N")[^8..];

        // A request received 40 days ago and still waiting: the queue puts it first and says it is overdue.
        var late = await SeedOverdueErasureAsync(TestContext.Current.CancellationToken);

        // The officer, in a browser of their own.
        await using var officerContext = await server.NewContextAsync();
        var officer = await officerContext.NewPageAsync();
        await Portal.SignInAsync(officer, DemoAccounts.PrivacyOfficer);
        await officer.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Requests" }).ClickAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(officer));
        var row = officer.Locator($"tr:has(a[href$='{id:D}'])");
        await Expect(row).ToContainTextAsync("Pending");
        await Expect(row).ToContainTextAsync("days");
        var first = officer.Locator("table.queue tbody tr").First;
        await Expect(first.Locator($"a[href$='{late:D}']")).ToHaveCountAsync(1);
        await Expect(first.Locator(".badge--overdue")).ToHaveTextAsync("Overdue by 10 days");
        await Expect(officer.Locator("main")).Not.ToContainTextAsync(subject.Email);
        await Portal.ScreenshotAsync(officer, "privacy-officer-requests");
        // A second tab, still showing the request as pending, approves it after the first: a conflict, said on the page.
        var stale = await officerContext.NewPageAsync();
        await stale.GotoAsync("/privacy/officer/requests");

        await row.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync($"Request {handle} is approved");
        await stale.Locator($"tr:has(a[href$='{id:D}'])").GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await Expect(stale.GetByRole(AriaRole.Alert)).ToContainTextAsync("only a pending erasure can be approved");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(stale));
        // Denying needs a reason; the queue takes it in place.
        var lateRow = officer.Locator($"tr:has(a[href$='{late:D}'])");
        await lateRow.GetByText("Deny…").ClickAsync();
        await lateRow.GetByLabel("Reason (required)").FillAsync("The identity check failed.");
        await lateRow.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync($"Request {late.ToString("N")[^8..]} is denied");
        await Expect(officer.Locator($"tr:has(a[href$='{late:D}'])")).ToContainTextAsync("Denied");

        await row.GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(officer).ToHaveURLAsync(OfficerRequestUrl());
        await Expect(officer.Locator(".status")).ToHaveTextAsync("Completed", UntilDone);
        await Expect(officer.GetByRole(AriaRole.Heading, new() { Name = "What the erasure did" })).ToBeVisibleAsync();
        await Expect(officer.GetByRole(AriaRole.Heading, new() { Name = "Kept by a rule" })).ToBeVisibleAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(officer));
        await Portal.ScreenshotAsync(officer, "privacy-officer-request-completed");

        // The person's session ended when the erasure started, and the account is gone.
        await user.ReloadAsync();
        await Expect(user).ToHaveURLAsync(LoginUrl());
        await Portal.SignInAsync(user, subject.Email, DemoAccounts.Password, open: false);
        await Expect(user.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The email or password is wrong.");
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("@lethe.demo", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task An_officer_files_an_erasure_on_someones_behalf_and_denies_it_with_a_reason_the_person_sees()
    {
        var subject = DemoAccounts.Contributor;
        await using var officerContext = await server.NewContextAsync();
        var officer = await officerContext.NewPageAsync();
        await Portal.SignInAsync(officer, DemoAccounts.PrivacyOfficer);
        await officer.GotoAsync("/privacy/officer/requests");
        var form = officer.Locator("form", new() { Has = officer.GetByRole(AriaRole.Button, new() { Name = "File the request" }) });

        await form.GetByRole(AriaRole.Radio, new() { Name = "Erasure" }).CheckAsync();
        await form.GetByLabel("Name the person by").SelectOptionAsync("email");
        await form.GetByLabel("Their email address, object ID or author ID").FillAsync(subject.Email);
        await form.GetByLabel("How you verified their identity").FillAsync("Signed letter checked against the HR record.");
        await form.GetByRole(AriaRole.Button, new() { Name = "File the request" }).ClickAsync();

        // The request's address is its ID: the email is in no URL and on no page after the form.
        await Expect(officer).ToHaveURLAsync(OfficerRequestUrl());
        Assert.DoesNotContain("lethe.demo", officer.Url, StringComparison.OrdinalIgnoreCase);
        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("runs once a privacy officer approves it");
        await Expect(officer.Locator("main")).ToContainTextAsync("A privacy officer, on the person's behalf");
        await Expect(officer.Locator("main")).Not.ToContainTextAsync(subject.Email);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(officer));
        await Portal.ScreenshotAsync(officer, "privacy-officer-request-pending");

        var deny = officer.Locator("form", new() { Has = officer.GetByRole(AriaRole.Button, new() { Name = "Deny" }) });
        await deny.GetByLabel("Reason for denying").FillAsync("The person withdrew the request by phone.");
        await deny.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();

        await Expect(officer.GetByRole(AriaRole.Status)).ToContainTextAsync("Denied");
        await Expect(officer.Locator(".status")).ToHaveTextAsync("Denied");
        await Expect(officer.GetByRole(AriaRole.Button, new() { Name = "Approve" })).ToHaveCountAsync(0);

        // The request follows the person's account: they see it, and why it was denied.
        await using var userContext = await server.NewContextAsync();
        var user = await userContext.NewPageAsync();
        await Portal.SignInAsync(user, subject);
        await user.GotoAsync("/privacy/my-data");
        var mine = user.Locator("section", new() { Has = user.GetByRole(AriaRole.Heading, new() { Name = "My requests" }) }).GetByRole(AriaRole.Row).Filter(new() { HasText = "Erasure" });
        await Expect(mine).ToContainTextAsync("Denied");
        await mine.GetByRole(AriaRole.Link).First.ClickAsync();
        await Expect(user.Locator("main")).ToContainTextAsync("The person withdrew the request by phone.");
    }

    private async Task<Guid> SeedOverdueErasureAsync(CancellationToken ct)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var hashes = scope.ServiceProvider.GetRequiredService<SubjectHashes>();
        var received = DateTimeOffset.UtcNow.AddDays(-40);
        var someone = Guid.NewGuid();
        var request = new PrivacyRequest
        {
            Id = Guid.CreateVersion7(received),
            Type = PrivacyRequestType.Erasure,
            SubjectHash = await hashes.OfObjectIdAsync(someone, ct),
            SubjectObjectId = someone,
            ReceivedAt = received,
            DueAt = received.AddDays(30),
            Status = PrivacyRequestStatus.Verified,
            Approval = ApprovalState.Pending,
            Version = Guid.NewGuid(),
        };
        db.PrivacyRequests.Add(request);
        await db.SaveChangesAsync(ct);
        return request.Id;
    }

    private static async Task<IReadOnlyList<string>> ManifestPathsAsync(string bundle, CancellationToken ct)
    {
        await using var file = File.OpenRead(bundle);
        await using var zip = await ZipArchive.CreateAsync(file, ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, ct);
        var stream = await zip.GetEntry("manifest.json")!.OpenAsync(ct);
        await using (stream)
        {
            using var manifest = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
            return [.. manifest.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!)];
        }
    }
}
