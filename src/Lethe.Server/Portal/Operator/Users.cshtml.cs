using Lethe.Identity;
using Lethe.Mail;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Operator;

/// The operator's accounts page: who has an account, disable and enable, invite by email, withdraw an invitation.
/// Anyone who is not an operator (Owner at the root scope) gets the access denied page.
public sealed class UsersModel(LetheDb db, Invitations invitations, UserManager<LetheUser> users, Mailer mailer, IConfiguration configuration, ILoggerFactory logs, TimeProvider clock) : PageModel
{
    public const int PageSize = 100;

    /// What the page says after an action: a key of <see cref="Messages"/>, never text from the request.
    [TempData]
    public string? Done { get; set; }

    /// The link of the invitation just made, shown once (the server keeps only its hash).
    [TempData]
    public string? NewLink { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    [BindProperty]
    public string? InviteEmail { get; set; }

    [BindProperty]
    public string? InviteName { get; set; }

    public string? Error { get; private set; }

    public IReadOnlyList<LetheUser> Users { get; private set; } = [];
    public bool HasNext { get; private set; }
    public IReadOnlyList<Invitation> Invitations { get; private set; } = [];

    /// Telemetry: events per action over the last 30 days, every user together.
    public IReadOnlyList<Lethe.Client.TelemetryActionCount> Activity { get; private set; } = [];
    public RegistrationMode Mode => invitations.Options.Registration;
    public bool MailEnabled => mailer.Enabled;
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    public static IReadOnlyDictionary<string, string> Messages { get; } = new Dictionary<string, string>
    {
        ["invited"] = "Invitation made. Pass the link below on to the person: it works once.",
        ["mailed"] = "Invitation sent by email.",
        ["revoked"] = "Invitation withdrawn: its link no longer works.",
        ["disabled"] = "Account disabled: it cannot sign in, and its sessions have ended.",
        ["enabled"] = "Account enabled.",
    };

    public string? Message => Done is not null && Messages.TryGetValue(Done, out var m) ? m : null;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await invitations.IsOperatorAsync(User.ObjectId(), ct))
        {
            return Forbid();
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostInviteAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        if (!await invitations.IsOperatorAsync(me, ct))
        {
            return Forbid();
        }
        Error = Lethe.Identity.Invitations.EmailProblem(InviteEmail) ?? Lethe.Identity.Invitations.DisplayNameProblem(InviteName);
        if (Error is null)
        {
            var (error, created) = await invitations.CreateAsync(me, InviteEmail!, InviteName, ct);
            if (error == InvitationError.None)
            {
                NewLink = AccountEndpoints.InvitationLink(created!.Code, configuration, Request);
                Done = "invited";
                if (await AccountEndpoints.TryMailInvitationAsync(mailer, created.Invitation, NewLink, logs, ct))
                {
                    Done = "mailed";
                }
                else if (mailer.Enabled)
                {
                    Error = "The mail server did not take the invitation; pass the link on yourself.";
                }
                if (Error is null)
                {
                    return RedirectToPage();
                }
            }
            else
            {
                Error = error == InvitationError.AccountExists ? "An account with this email address exists already." : "The invitation could not be made.";
            }
        }
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid id, CancellationToken ct)
    {
        if (!await invitations.IsOperatorAsync(User.ObjectId(), ct))
        {
            return Forbid();
        }
        if (await invitations.RevokeAsync(User.ObjectId(), id, ct) != InvitationError.None)
        {
            Error = "That invitation is no longer pending.";
            await LoadAsync(ct);
            return Page();
        }
        Done = "revoked";
        return RedirectToPage();
    }

    public Task<IActionResult> OnPostDisableAsync(Guid id, CancellationToken ct) => SetDisabledAsync(id, true, ct);

    public Task<IActionResult> OnPostEnableAsync(Guid id, CancellationToken ct) => SetDisabledAsync(id, false, ct);

    private async Task<IActionResult> SetDisabledAsync(Guid id, bool disabled, CancellationToken ct)
    {
        var result = await AccountEndpoints.SetDisabledAsync(id, disabled, User, db, users, invitations, ct);
        if (result.Result is Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult problem)
        {
            if (problem.StatusCode == StatusCodes.Status403Forbidden)
            {
                return Forbid();
            }
            Error = problem.ProblemDetails.Detail;
            await LoadAsync(ct);
            return Page();
        }
        Done = disabled ? "disabled" : "enabled";
        return RedirectToPage(new { p = PageNumber > 1 ? PageNumber : (int?)null });
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        PageNumber = Math.Max(1, PageNumber);
        var page = await db.Users.AsNoTracking().OrderBy(u => u.CreatedAt).ThenBy(u => u.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1).ToListAsync(ct);
        HasNext = page.Count > PageSize;
        Users = page.Take(PageSize).ToList();
        Invitations = (await invitations.ListAsync(User.ObjectId(), ct)).Where(i => i.StateAt(Now) == InvitationState.Pending).ToList();
        Activity = await TelemetryEndpoints.CountsAsync(db, Now.AddDays(-30), ct);
    }
}
