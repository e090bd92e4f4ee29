using Lethe.Demo;
using Lethe.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests.Gallery;

public sealed class GalleryPortalTests(PortalServer server) : IClassFixture<PortalServer>
{
    [Fact]
    public async Task The_author_sees_unlisted_items_marked_copies_a_token_and_revokes_it()
    {
        var authorId = await server.Services.GetRequiredService<AuthorIds>().ForAsync(DemoAccounts.GalleryAuthor.Email, TestContext.Current.CancellationToken);
        await using var context = await server.NewContextAsync();
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor);

        await page.GotoAsync("/gallery");
        await page.GetByRole(AriaRole.Link, new() { Name = "Your profile" }).ClickAsync();

        Assert.EndsWith($"/gallery/profile?authorId={authorId}", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator("#author-id")).ToHaveTextAsync(authorId);
        var items = page.Locator(".items .item");
        await Expect(items).ToHaveCountAsync(5);
        await Expect(items.Filter(new() { HasText = "Feature engineering scratchpad" }).Locator(".badge")).ToHaveTextAsync("Unlisted");
        await Expect(items.Filter(new() { HasText = "Predictive maintenance" }).Locator(".badge")).ToHaveTextAsync("Public");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "gallery-profile");

        await page.GetByRole(AriaRole.Button, new() { Name = "Get a new token" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status).First).ToHaveTextAsync("Copied to the clipboard.");
        var copied = await page.EvaluateAsync<string>("navigator.clipboard.readText()");
        var shown = await page.GetByLabel("Your new token (shown once)").InputValueAsync();
        Assert.Equal(shown, copied);
        Assert.StartsWith("lct_", copied, StringComparison.Ordinal);
        await Expect(page.Locator("#token-expiry")).ToContainTextAsync("Expires");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "gallery-token");

        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var before = new HttpRequestMessage(HttpMethod.Get, $"catalog/entities?$filter=author/id eq '{authorId}'");
        before.Headers.Add("DataLabAccessToken", copied);
        using var withToken = await http.SendAsync(before, TestContext.Current.CancellationToken);
        Assert.Contains("Feature engineering scratchpad", await withToken.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        await page.GetByText("Revoke tokens…").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, revoke my tokens" }).ClickAsync();
        await Expect(page.Locator(".notice")).ToContainTextAsync("revoked");
        await Expect(page.Locator("#token-expiry")).ToHaveTextAsync("You have no valid token.");

        using var after = new HttpRequestMessage(HttpMethod.Get, $"catalog/entities?$filter=author/id eq '{authorId}'");
        after.Headers.Add("DataLabAccessToken", copied);
        using var revoked = await http.SendAsync(after, TestContext.Current.CancellationToken);
        Assert.Equal(401, (int)revoked.StatusCode);
    }

    [Fact]
    public async Task A_first_publication_says_what_becomes_public_and_the_person_chooses_the_name()
    {
        var ct = TestContext.Current.CancellationToken;
        var authorId = await server.Services.GetRequiredService<AuthorIds>().ForAsync(DemoAccounts.LabUser2.Email, ct);
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabUser2);

        // Looking at one's own profile makes nothing public.
        await page.GotoAsync("/gallery/profile");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Your gallery profile");
        await Expect(page.Locator("main")).ToContainTextAsync("nothing about you is public");
        using var anonymous = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await anonymous.GetAsync($"/catalog/users/{authorId}", ct)).StatusCode);

        await page.GotoAsync("/gallery/publish");
        var notice = page.Locator("#what-becomes-public");
        await Expect(notice).ToContainTextAsync("makes your gallery profile public");
        await Expect(notice).ToContainTextAsync("Your email address is never shown");
        var name = page.Locator("#public-name");
        await Expect(name).ToHaveValueAsync(DemoAccounts.LabUser2.DisplayName);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, "gallery-first-publish");
        await name.FillAsync("Leo L.");
        await page.Locator("#Name").FillAsync("My first item");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("My first item");
        var profile = System.Text.Json.JsonDocument.Parse(await anonymous.GetStringAsync($"/catalog/users/{authorId}", ct)).RootElement;
        Assert.Equal("Leo L.", profile.GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_author_publishes_changes_visibility_and_unpublishes_from_the_portal()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor);

        await page.GotoAsync("/gallery/publish");
        await page.GetByLabel("Kind").SelectOptionAsync("Tutorial");
        await page.GetByLabel("Name").FillAsync("Browser tutorial");
        await page.GetByLabel("Tags").FillAsync("ui, test");
        await page.GetByLabel("Unlisted: only you see it", new() { Exact = false }).CheckAsync();
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Browser tutorial");
        await Expect(page.Locator("main .badge")).ToHaveTextAsync("Unlisted");
        await Portal.ScreenshotAsync(page, "gallery-entity");
        await page.GetByLabel("Public: listed in the gallery", new() { Exact = false }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.Locator("main .badge")).ToHaveTextAsync("Public");

        await page.GotoAsync("/gallery");
        await Expect(page.Locator(".items")).ToContainTextAsync("Browser tutorial");
        await Portal.ScreenshotAsync(page, "gallery-browse");
        await page.GetByRole(AriaRole.Link, new() { Name = "Browser tutorial" }).ClickAsync();
        await page.GetByText("Unpublish…").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, unpublish" }).ClickAsync();

        Assert.Contains("/gallery/profile?authorId=", page.Url, StringComparison.Ordinal);
        await Expect(page.Locator(".items")).Not.ToContainTextAsync("Browser tutorial");
    }
}
