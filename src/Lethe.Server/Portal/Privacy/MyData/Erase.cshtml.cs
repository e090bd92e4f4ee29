using Lethe.Client;
using Lethe.Privacy.Requests;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Portal.Privacy.MyData;

/// Delete my data, second step: the dry run's preview, place by place, and only then "Yes, erase my data", which
/// files the real erasure for the signed-in user (an officer approves it before it runs).
public sealed class EraseModel(PrivacyRequests requests, TimeProvider clock, IOptions<PrivacyOptions> options) : PageModel
{
    /// The dry run whose preview is shown.
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public PrivacyRequestResource Preview { get; private set; } = null!;

    [TempData]
    public string? Error { get; set; }

    public bool OfficerApproves => options.Value.ErasureApproval == ErasureApproval.Officer;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (await OwnDryRunAsync(caller, ct) is not { } dryRun)
        {
            return NotFound();
        }
        Preview = PrivacyRequestEndpoints.ToResource(dryRun, clock.GetUtcNow());
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (await OwnDryRunAsync(caller, ct) is not { } dryRun)
        {
            return NotFound();
        }
        if (dryRun.Status != PrivacyRequestStatus.Completed)
        {
            Error = dryRun.Status == PrivacyRequestStatus.Failed
                ? "The preview could not be made. Go back to My data and ask again."
                : "The preview is not ready yet: confirm once it is shown.";
            return RedirectToPage(new { id = Id });
        }
        if (await RequestText.OpenErasureAsync(requests, caller, ct) is { } open)
        {
            Error = "You have already asked for your data to be erased.";
            return RedirectToPage("/Privacy/MyData/Request", new { id = open.Id });
        }
        var result = await requests.FileAsync(caller, new FileRequest(PrivacyRequestType.Erasure, null, DryRun: false, AnonymizeNow: false, null), ct);
        if (result.Request is not { } request)
        {
            Error = RequestText.Problem(result);
            return RedirectToPage(new { id = Id });
        }
        TempData["Message"] = request.Approval == ApprovalState.Pending
            ? "Your erasure request is filed. A privacy officer must approve it; when it starts you will be signed out."
            : "Your erasure request is filed and starts at once: you will be signed out.";
        return RedirectToPage("/Privacy/MyData/Request", new { id = request.Id });
    }

    private async Task<PrivacyRequest?> OwnDryRunAsync(PrivacyCaller caller, CancellationToken ct)
        => await RequestText.OwnAsync(requests, caller, Id, ct) is { Type: PrivacyRequestType.Erasure, DryRun: true } dryRun ? dryRun : null;
}
