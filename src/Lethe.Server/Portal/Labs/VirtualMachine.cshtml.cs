using Lethe.Client;
using Lethe.Labs;
using Lethe.Server.Api.Labs;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Labs;

/// One VM: its facts and its pending auto-shutdown (time, the notice and its email), with Postpone and
/// Skip for its owner and lab admins: usable whether or not the notice's email arrived.
public sealed class VirtualMachineModel(LetheDb db, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid SubscriptionId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string ResourceGroup { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string LabName { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string VmName { get; set; } = "";

    public Lab Lab { get; private set; } = null!;
    public LabVirtualMachineResource Vm { get; private set; } = null!;
    public LabVmShutdown? Shutdown { get; private set; }

    /// The owner or a lab admin: may act on the shutdown.
    public bool CanAct { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string Sub => SubscriptionId.ToString("D");

    public string Local(DateTimeOffset t)
        => TimeZoneInfo.ConvertTime(t, TimeZoneInfo.FindSystemTimeZoneById(Lab.TimeZoneId)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " (" + Lab.TimeZoneId + ")";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var found = await LabVirtualMachineEndpoints.FindVmAsync(db, Sub, ResourceGroup, LabName, VmName, me, ct);
        if (found.Vm is not { } vm)
        {
            return NotFound();
        }
        Lab = found.Lab!;
        Vm = LabVirtualMachineEndpoints.ToResource(Lab, vm);
        CanAct = vm.OwnerObjectId == me || await db.IsLabAdminAsync(me, Lab, ct);
        if (CanAct && await PendingShutdown.FindAsync(db, Lab, vm, clock.GetUtcNow(), ct) is { } pending)
        {
            Shutdown = LabShutdownEndpoints.ToContract(pending);
        }
        return Page();
    }

    public async Task<IActionResult> OnPostPostponeAsync(int minutes, CancellationToken ct)
        => Done(await LabShutdownEndpoints.PostponeVmShutdownAsync(Sub, ResourceGroup, LabName, VmName, new PostponeShutdownRequest(minutes), User, db, clock, ct),
            $"The shutdown is postponed to {minutes} minutes after its scheduled time.");

    public async Task<IActionResult> OnPostSkipAsync(CancellationToken ct)
        => Done(await LabShutdownEndpoints.SkipVmShutdownAsync(Sub, ResourceGroup, LabName, VmName, User, db, clock, ct),
            "This shutdown is skipped. The next one follows the schedule.");

    private RedirectToPageResult Done(IResult result, string success)
    {
        (Message, Error) = HandlerOutcome.Of(result, success);
        return RedirectToPage();
    }

    /// The notice's email in words.
    public string MailText(LabShutdownNoticeMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        return mail.State switch
        {
            nameof(NoticeMailState.Sent) => $"Emailed at {Local(mail.SentAt!.Value)}.",
            nameof(NoticeMailState.Failed) when mail.NextAttemptAt is { } next => $"Sending failed {mail.Attempts} time(s): {mail.LastError} Next try at {Local(next)}.",
            nameof(NoticeMailState.Failed) => $"Sending failed {mail.Attempts} time(s): {mail.LastError} No more tries: act here.",
            nameof(NoticeMailState.NoAddress) => "Not emailed: neither the VM nor the lab has a notification email.",
            nameof(NoticeMailState.NoMailServer) => "Not emailed: this server has no mail server configured. Act on the shutdown here.",
            nameof(NoticeMailState.NotNeeded) => "No email: the shutdown was acted on here before its notice was due.",
            _ => "Being sent.",
        };
    }
}
