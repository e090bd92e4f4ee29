using System.Text.RegularExpressions;
using Lethe.Demo;
using Lethe.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Lethe.Browser.Tests;

public sealed partial class SignInTests(PortalServer server) : IClassFixture<PortalServer>
{
    private const string WrongCredentials = "The email or password is wrong.";

    [GeneratedRegex(@"/account/login\?ReturnUrl=%2Fprivacy$")]
    private static partial Regex LoginReturningToPrivacy();

    [Fact]
    public async Task Sign_in_lands_on_home_with_the_display_name_and_the_demo_subscription()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign in to Lethe");
        await Portal.ScreenshotAsync(page, "login");

        await Portal.SignInAsync(page, DemoAccounts.WorkspaceOwner);

        Assert.Equal(new Uri(server.BaseAddress, "/"), new Uri(page.Url));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Welcome, {DemoAccounts.WorkspaceOwner.DisplayName}");
        await Expect(page.Locator("header")).ToContainTextAsync(DemoAccounts.WorkspaceOwner.DisplayName);
        var main = page.Locator("main");
        await Expect(main).ToContainTextAsync("Contoso Research");
        await Expect(main).ToContainTextAsync(DemoAccounts.MlResourceGroup);
        await Expect(main).ToContainTextAsync(DemoAccounts.LabsResourceGroup);
        await Expect(page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Subscription Contoso Research" })).ToContainTextAsync("Owner");
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Home" }))
            .ToHaveAttributeAsync("aria-current", "page");
        await Portal.ScreenshotAsync(page, "home");

        // The navigation moves above the content on a phone-sized screen.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Privacy" })).ToBeInViewportAsync();
        await Portal.ScreenshotAsync(page, "home-narrow");
    }

    [Fact]
    public async Task Wrong_password_shows_the_generic_error_and_stays_signed_out()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await Portal.SignInAsync(page, DemoAccounts.Contributor.Email, "not-the-password");

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(WrongCredentials);
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
        await Expect(page.GetByLabel("Email")).ToHaveValueAsync(DemoAccounts.Contributor.Email);
        await Expect(page.GetByLabel("Password")).ToBeFocusedAsync();
        await Portal.ScreenshotAsync(page, "login-wrong-password");

        // An unknown email gets the very same answer: the form does not tell which accounts exist.
        await Portal.SignInAsync(page, "nobody@lethe.demo", "not-the-password", open: false);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(WrongCredentials);

        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "lethe");
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"));
    }

    [Fact]
    public async Task An_empty_form_says_what_is_missing_next_to_each_field()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var email = page.GetByLabel("Email");
        await Expect(email).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(email).ToHaveAccessibleDescriptionAsync("Enter your email address.");
        await Expect(email).ToBeFocusedAsync();
        await Expect(page.GetByLabel("Password")).ToHaveAccessibleDescriptionAsync("Enter your password.");
        Assert.Empty(await Portal.AccessibilityProblemsAsync(page));
    }

    [Fact]
    public async Task Anonymous_visit_to_privacy_goes_through_sign_in_and_returns_to_privacy()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/privacy");
        await Expect(page).ToHaveURLAsync(LoginReturningToPrivacy());

        await Portal.SignInAsync(page, DemoAccounts.GalleryAuthor.Email, DemoAccounts.Password, open: false);

        await Expect(page).ToHaveURLAsync(new Uri(server.BaseAddress, "/privacy").ToString());
        var map = page.GetByRole(AriaRole.Region, new() { Name = "The personal-data map" });
        await Expect(map.GetByRole(AriaRole.Row).Filter(new() { HasText = "AspNetUsers" })).ToContainTextAsync("Identity");
        var yours = page.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Your data" }) });
        await Expect(yours).ToContainTextAsync(DemoAccounts.GalleryAuthor.ObjectId.ToString());
        await Expect(yours).ToContainTextAsync(DemoAccounts.GalleryAuthor.Email);
        await Expect(yours).ToContainTextAsync(DemoAccounts.GalleryAuthor.DisplayName);
        await Portal.ScreenshotAsync(page, "privacy");
    }

    [Fact]
    public async Task Sign_in_never_forwards_to_another_site()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login?ReturnUrl=https%3A%2F%2Fexample.com%2F");

        await Portal.SignInAsync(page, DemoAccounts.LabAdmin.Email, DemoAccounts.Password, open: false);

        await Expect(page).ToHaveURLAsync(new Uri(server.BaseAddress, "/").ToString());
    }

    [Fact]
    public async Task Sign_out_ends_the_session()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.Operator);

        // Sign-out is a POST with an antiforgery token: one without it (a forged cross-site form) is refused.
        var forged = await context.APIRequest.PostAsync("/account/logout");
        Assert.Equal(400, forged.Status);
        await page.ReloadAsync();
        await Expect(page.Locator("header")).ToContainTextAsync(DemoAccounts.Operator.DisplayName);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("/account/login$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("You are signed out.");
        await page.GotoAsync("/workspaces");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?ReturnUrl=%2Fworkspaces$"));
    }

    [Fact]
    public async Task The_sign_out_page_asks_first_then_signs_out()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.LabAdmin);

        await page.GotoAsync("/account/logout");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign out of Lethe?");
        await page.Locator("main").GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("You are signed out.");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "lethe");
    }

    [Fact]
    public async Task An_account_erased_while_signed_in_ends_its_session()
    {
        var email = $"erased-{Guid.NewGuid():N}@example.test";
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<LetheUser>>();
            var created = await users.CreateAsync(new LetheUser { UserName = email, Email = email, DisplayName = "Erin Erased" }, DemoAccounts.Password);
            Assert.True(created.Succeeded);
        }
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, email, DemoAccounts.Password);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Welcome, Erin Erased");

        await using (var scope = server.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<LetheUser>>();
            Assert.True((await users.DeleteAsync((await users.FindByEmailAsync(email))!)).Succeeded);
        }
        await page.GotoAsync("/privacy");

        // The session check ends the session before the page runs: sign-in, then back to the page asked for.
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?ReturnUrl=%2Fprivacy$"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "lethe");
    }

    [Fact]
    public async Task Too_many_wrong_passwords_lock_the_account_with_a_message()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/account/login");

        // Identity is set to lock after 10 failures (Hosting/Authentication.cs).
        for (var attempt = 1; attempt < 10; attempt++)
        {
            await Portal.SignInAsync(page, DemoAccounts.LabUser2.Email, $"wrong-{attempt}", open: false);
            await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(WrongCredentials);
        }
        await Portal.SignInAsync(page, DemoAccounts.LabUser2.Email, "wrong-10", open: false);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("locked");

        // Locked means locked: the right password does not get in either.
        await Portal.SignInAsync(page, DemoAccounts.LabUser2.Email, DemoAccounts.Password, open: false);
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("locked");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "lethe");
    }

    [Fact]
    public async Task Sign_in_attempts_leave_no_email_address_in_the_server_logs()
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        await Portal.SignInAsync(page, DemoAccounts.PrivacyOfficer.Email, "not-the-password");
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(WrongCredentials);
        await Portal.SignInAsync(page, "nobody-at-all@lethe.demo", "not-the-password", open: false);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync(WrongCredentials);
        await Portal.SignInAsync(page, DemoAccounts.PrivacyOfficer);
        await page.GotoAsync("/privacy");

        Assert.Contains(server.Logs.Lines, l => l.Contains(DemoAccounts.PrivacyOfficer.ObjectId.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("@lethe.demo", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_skip_link_is_the_first_focusable_element_and_moves_focus_to_main(bool signedIn)
    {
        await using var context = await server.NewContextAsync();
        var page = await context.NewPageAsync();
        if (signedIn)
        {
            await Portal.SignInAsync(page, DemoAccounts.LabUser1);
        }
        else
        {
            await page.GotoAsync("/account/login");
        }
        await page.Keyboard.PressAsync("Tab");

        var skip = page.GetByRole(AriaRole.Link, new() { Name = "Skip to main content" });
        await Expect(skip).ToBeFocusedAsync();
        await Expect(skip).ToBeInViewportAsync();
        await Portal.ScreenshotAsync(page, signedIn ? "skip-link-home" : "skip-link-login");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("main")).ToBeFocusedAsync();
    }
}
