using Lethe.Demo;
using Microsoft.Playwright;

namespace Lethe.Browser.Tests;

/// What the tests do on the portal the way a user does it: through labels, roles and the keyboard.
internal static class Portal
{
    public static async Task SignInAsync(IPage page, string email, string password, bool open = true)
    {
        if (open)
        {
            await page.GotoAsync("/account/login");
        }
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    public static async Task SignInAsync(IPage page, DemoAccount account)
    {
        await SignInAsync(page, account.Email, DemoAccounts.Password);
        await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal));
    }

    /// A full-page screenshot in the test output folder; the path is printed so that a run shows where it is.
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", name + ".png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.TestOutputHelper?.WriteLine($"Screenshot: {path}");
        return path;
    }

    /// A small accessibility check without axe: the structure a screen reader user relies on.
    public static async Task<IReadOnlyList<string>> AccessibilityProblemsAsync(IPage page)
        => await page.EvaluateAsync<string[]>("""
            () => {
              const problems = [];
              if (!document.documentElement.lang) problems.push('<html> has no lang');
              if (!document.title.trim()) problems.push('the page has no title');
              const count = selector => document.querySelectorAll(selector).length;
              if (count('main') !== 1) problems.push(`${count('main')} <main> elements, expected 1`);
              if (count('h1') !== 1) problems.push(`${count('h1')} <h1> elements, expected 1`);
              if (count('header') < 1) problems.push('no <header> landmark');
              for (const input of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
                const labelled = input.labels.length > 0 || input.getAttribute('aria-label') || input.getAttribute('aria-labelledby');
                if (!labelled) problems.push(`the input '${input.name || input.id}' has no label`);
              }
              for (const control of document.querySelectorAll('a[href], button')) {
                if (!control.textContent.trim() && !control.getAttribute('aria-label')) problems.push(`a ${control.tagName.toLowerCase()} has no text`);
              }
              const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
              for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`the id '${id}' is used more than once`);
              for (const link of document.querySelectorAll('a[href^="#"]')) {
                const target = link.getAttribute('href').slice(1);
                if (target && !document.getElementById(target)) problems.push(`the link to #${target} has no target`);
              }
              return problems;
            }
            """);
}
