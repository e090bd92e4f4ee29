using Lethe.Client;
using Lethe.Privacy.Requests;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Privacy.MyData;

/// One of the signed-in user's own requests: its progress, the download of a finished export, cancel while it waits.
/// Only the person's own: an officer looks at others' requests on the Requests pages.
public sealed class MyRequestModel(PrivacyRequests requests, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public PrivacyRequestResource Item { get; private set; } = null!;
    public DateTimeOffset Now { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (await RequestText.OwnAsync(requests, caller, Id, ct) is not { } request)
        {
            return NotFound();
        }
        Now = clock.GetUtcNow();
        Item = PrivacyRequestEndpoints.ToResource(request, Now);
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (await RequestText.OwnAsync(requests, caller, Id, ct) is null)
        {
            return NotFound();
        }
        var result = await requests.CancelAsync(caller, Id, ct);
        if (RequestText.Problem(result) is { } problem)
        {
            Error = problem;
        }
        else
        {
            Message = "The request is cancelled.";
        }
        return RedirectToPage(new { id = Id });
    }
}
