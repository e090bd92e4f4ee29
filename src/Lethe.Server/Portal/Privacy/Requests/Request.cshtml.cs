using Lethe.Client;
using Lethe.Privacy.Requests;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Privacy.Requests;

/// One request as a privacy officer handles it: its steps, preview, retained records and failure; approve, deny,
/// cancel, retry. A refused action (a conflict: someone else acted first) is a message here, never an error page.
public sealed class OfficerRequestModel(PrivacyRequests requests, TimeProvider clock) : PageModel
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
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        if (await requests.FindAsync(caller, Id, ct) is not { } request)
        {
            return NotFound();
        }
        Now = clock.GetUtcNow();
        Item = PrivacyRequestEndpoints.ToResource(request, Now);
        return Page();
    }

    public Task<IActionResult> OnPostApproveAsync(string? reason, CancellationToken ct)
        => ActAsync((caller, token) => requests.ApproveAsync(caller, Id, reason, token), "Approved: the erasure runs now.", ct);

    public Task<IActionResult> OnPostDenyAsync(string? reason, CancellationToken ct)
        => ActAsync((caller, token) => requests.DenyAsync(caller, Id, reason, token), "Denied. The person sees the reason with their request.", ct);

    public Task<IActionResult> OnPostCancelAsync(CancellationToken ct)
        => ActAsync((caller, token) => requests.CancelAsync(caller, Id, token), "Cancelled.", ct);

    public Task<IActionResult> OnPostRetryAsync(CancellationToken ct)
        => ActAsync((caller, token) => requests.RetryAsync(caller, Id, token), "Retrying from the failed step.", ct);

    private async Task<IActionResult> ActAsync(Func<PrivacyCaller, CancellationToken, Task<RequestResult>> act, string success, CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        var result = await act(caller, ct);
        if (result.Problem == RequestProblem.NotFound)
        {
            return NotFound();
        }
        if (RequestText.Problem(result) is { } problem)
        {
            Error = problem;
        }
        else
        {
            Message = success;
        }
        return RedirectToPage(new { id = Id });
    }
}
