using Lethe.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Account;

internal static class ErasedAccount
{
    /// The account was erased while its cookie lived on: the session ends, rather than a page showing nobody.
    public static async Task<IActionResult> EndSessionAsync(this PageModel page, SignInManager<LetheUser> signIn)
    {
        await signIn.SignOutAsync();
        return page.RedirectToPage("/Account/Login");
    }
}
