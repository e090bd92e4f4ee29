using Lethe.Labs;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Labs;

/// Where an auto-shutdown notice links: postpone or skip the shutdown. The unguessable token in the URL
/// is the credential, so no sign-in is needed (the notice may be read on a phone); acting needs a POST.
[AllowAnonymous]
public sealed class ShutdownModel(LetheDb db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Token { get; set; } = "";

    /// From the notice's links: which action to put the focus on.
    [BindProperty(Name = "action", SupportsGet = true)]
    public string? Choice { get; set; }

    public LabShutdownNotice? Notice { get; private set; }
    public LabVirtualMachine? Vm { get; private set; }
    public Lab? Lab { get; private set; }

    [TempData]
    public string? Message { get; set; }

    public string Local(DateTimeOffset t)
        => TimeZoneInfo.ConvertTime(t, TimeZoneInfo.FindSystemTimeZoneById(Lab!.TimeZoneId)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " (" + Lab.TimeZoneId + ")";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        (Notice, Vm, Lab) = await ShutdownNotices.FindAsync(db, Token, ct);
        return Notice is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostPostponeAsync(int minutes, CancellationToken ct)
    {
        var outcome = await ShutdownNotices.PostponeAsync(db, Token, minutes, ct);
        Message = outcome switch
        {
            ShutdownNotices.Outcome.Done => $"The shutdown is postponed to {minutes} minutes after its scheduled time.",
            ShutdownNotices.Outcome.AlreadyShutDown => Api.Labs.LabShutdownEndpoints.AlreadyShutDown,
            ShutdownNotices.Outcome.Skipped => Api.Labs.LabShutdownEndpoints.SkippedCannotBePostponed,
            ShutdownNotices.Outcome.InvalidMinutes => "Choose how long to postpone the shutdown: " + ShutdownNotices.PostponeLimits,
            _ => null,
        };
        return outcome == ShutdownNotices.Outcome.NotFound ? NotFound() : RedirectToPage(new { token = Token });
    }

    public async Task<IActionResult> OnPostSkipAsync(CancellationToken ct)
    {
        var outcome = await ShutdownNotices.SkipAsync(db, Token, ct);
        Message = outcome switch
        {
            ShutdownNotices.Outcome.Done => "This shutdown is skipped. The next one follows the schedule.",
            ShutdownNotices.Outcome.AlreadyShutDown => Api.Labs.LabShutdownEndpoints.AlreadyShutDown,
            _ => null,
        };
        return outcome == ShutdownNotices.Outcome.NotFound ? NotFound() : RedirectToPage(new { token = Token });
    }
}
