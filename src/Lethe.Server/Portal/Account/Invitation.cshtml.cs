using Lethe.Identity;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Account;

/// Where an invitation link leads: the email it is for, a display name and a password; the account is made,
/// the invitation spent, and the person signed in. A link that does not work says why, in words.
public sealed class InvitationModel(Invitations invitations, SignInManager<LetheUser> signIn) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Code { get; set; }

    [BindProperty]
    public string? DisplayName { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public string? Email { get; private set; }

    /// Why the link does not work; null when it does.
    public string? LinkProblem { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct))
        {
            return Page();
        }
        var accepted = await invitations.AcceptAsync(Code, Password, DisplayName, ct);
        switch (accepted.Error)
        {
            case InvitationError.None:
                await signIn.SignInAsync(accepted.User!, isPersistent: false);
                return LocalRedirect("~/");
            case InvitationError.InvalidPassword:
                Errors = accepted.PasswordErrors ?? [];
                return Page();
            case InvitationError.InvalidDisplayName:
                Errors = [Invitations.DisplayNameProblem(DisplayName) ?? "The display name is not valid."];
                return Page();
            case InvitationError.AccountExists:
                LinkProblem = "An account with this email address exists already: sign in instead.";
                return Page();
            default:
                LinkProblem = AccountEndpoints.InvitationMessage(accepted.Error);
                return Page();
        }
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        var (error, invitation) = await invitations.FindAsync(Code, ct);
        if (error != InvitationError.None)
        {
            LinkProblem = AccountEndpoints.InvitationMessage(error);
            return false;
        }
        Email = invitation!.Email;
        DisplayName ??= invitation.DisplayName;
        return true;
    }
}
