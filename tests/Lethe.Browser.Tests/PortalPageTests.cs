using Lethe.Demo;
using Lethe.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests;

public sealed class PortalPageTests(PortalServer server) : IClassFixture<PortalServer>
{
    [Theory]
    [InlineData("/", "Home", "home-operator")]
    [InlineData("/workspaces", "Workspaces", "workspaces")]
    [InlineData("/gallery", "Gallery", "gallery-operator")]
    [InlineData("/labs", "Labs", "labs")]
    [InlineData("/privacy", "Privacy", "privacy-operator")]
    [InlineData("/operator/users", "Accounts", "accounts-operator")]
    public async Task Every_signed_in_page_has_labels_one_main_one_h1_and_marks_its_nav_item(string path, string navItem, string screenshot)
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Operator);

        var response = await page.GotoAsync(path);

        Assert.Equal(200, response?.Status);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        var nav = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });
        await Expect(nav.Locator("[aria-current=page]")).ToHaveCountAsync(1);
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = navItem, Exact = true })).ToHaveAttributeAsync("aria-current", "page");
        await Expect(nav.GetByRole(AriaRole.Link, new() { Name = "API reference" })).ToHaveAttributeAsync("href", "/reference");
        await Expect(page.Locator("header").GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
        await Portal.ScreenshotAsync(page, screenshot);
    }

    [Fact]
    public async Task The_privacy_map_fits_a_1366_pixel_screen_without_scrolling_sideways()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1366, 768);
        await Portal.SignInAsync(page, DemoAccounts.Operator);

        await page.GotoAsync("/privacy");

        var overflowing = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('.table-wrap')].filter(w => w.scrollWidth > w.clientWidth + 1).length");
        Assert.Equal(0, overflowing);
        await Portal.ScreenshotAsync(page, "privacy-1366");
    }

    [Theory]
    [InlineData("/account/login", "login-open")]
    [InlineData("/account/denied", "denied")]
    [InlineData("/account/invitation?code=not-a-code", "invitation-invalid")]
    public async Task Open_pages_pass_the_same_accessibility_check(string path, string screenshot)
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync(path);

        Assert.Equal(200, response?.Status);
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
        await Portal.ScreenshotAsync(page, screenshot);
    }

    [Fact]
    public async Task Gallery_shows_the_authors_own_Author_ID()
    {
        var expected = await server.Services.GetRequiredService<AuthorIds>().ForAsync(DemoAccounts.GalleryAuthor.Email, TestContext.Current.CancellationToken);
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor);

        await page.GotoAsync("/gallery");

        await Expect(page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Your Author ID" }) }).Locator("code"))
            .ToHaveTextAsync(expected);
        Assert.Matches("^[0-9A-F]{64}$", expected);
        await Portal.ScreenshotAsync(page, "gallery");
    }

    [Fact]
    public async Task A_module_page_lists_only_the_resource_groups_the_user_can_see()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabUser1);

        await page.GotoAsync("/labs");

        // The Labs page lists the labs themselves (the demo lab is in labs-rg), not ml-rg's content.
        var labs = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Your labs" }) });
        await Expect(labs).ToContainTextAsync("contoso-devtest");
        await Expect(labs).ToContainTextAsync(DemoAccounts.LabsResourceGroup);
        await Expect(labs).Not.ToContainTextAsync(DemoAccounts.MlResourceGroup);
        var personal = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "About labs and your personal data" }) });
        await Expect(personal).ToBeVisibleAsync();
        await Expect(page.Locator("main")).ToContainTextAsync("virtualmachines.csv");
    }
}
