using System.ComponentModel.DataAnnotations;
using Lethe.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Account;

public sealed class LoginInput
{
    [Required(ErrorMessage = "Enter your email address.")]
    [EmailAddress(ErrorMessage = "Enter an email address, like name@example.com.")]
    public string? Email { get; set; }

    [Required(ErrorMessage = "Enter your password.")]
    [DataType(DataType.Password)]
    public string? Password { get; set; }
}

/// Sign-in with email and password into the portal cookie. The logs name the account by object ID only.
public sealed partial class LoginModel(UserManager<LetheUser> users, SignInManager<LetheUser> signIn, ILogger<LoginModel> log) : PageModel
{
    // One message for an unknown email and a wrong password, so that the form does not tell which accounts exist.
    private const string WrongCredentials = "The email or password is wrong.";
    private const string LockedOut = "This account is locked after too many failed sign-ins. Try again in a few minutes.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    [TempData]
    public string? Status { get; set; }

    public IActionResult OnGet()
        => User.Identity?.IsAuthenticated == true ? LocalRedirect(Destination) : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        // Model validation makes both present.
        var user = await users.FindByEmailAsync(Input.Email!.Trim());
        var result = user is null
            ? Microsoft.AspNetCore.Identity.SignInResult.Failed
            : await signIn.PasswordSignInAsync(user, Input.Password!, isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            LogSignedIn(log, user!.Id);
            return LocalRedirect(Destination);
        }
        if (user is not null)
        {
            LogRefused(log, user.Id, result.ToString());
        }
        Error = result.IsLockedOut ? LockedOut
            : result.IsNotAllowed ? "This account may not sign in until its email address is confirmed."
            : result.RequiresTwoFactor ? "This account signs in with a second factor: use POST /identity/login with your two-factor code."
            : WrongCredentials;
        return Page();
    }

    /// Only a local URL: a sign-in link must not forward the user to another site.
    private string Destination => !string.IsNullOrEmpty(ReturnUrl) && Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "~/";

    [LoggerMessage(LogLevel.Information, "Portal sign-in of {ObjectId}")]
    private static partial void LogSignedIn(ILogger log, Guid objectId);

    [LoggerMessage(LogLevel.Information, "Portal sign-in refused for {ObjectId}: {Result}")]
    private static partial void LogRefused(ILogger log, Guid objectId, string result);
}
