using Lethe.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Account;

/// Sign-out is a POST with an antiforgery token, so that no link on another site can sign a user out.
/// A GET (a bookmark, the cookie's LogoutPath) asks first.
public sealed class LogoutModel(SignInManager<LetheUser> signIn) : PageModel
{
    [TempData]
    public string? Status { get; set; }

    public IActionResult OnGet() => User.Identity?.IsAuthenticated == true ? Page() : RedirectToPage("/Account/Login");

    public async Task<IActionResult> OnPostAsync()
    {
        await signIn.SignOutAsync();
        Status = "You are signed out.";
        return RedirectToPage("/Account/Login");
    }
}
