using Lethe.Client;
using Lethe.Privacy.Requests;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Portal.Privacy;

/// The officer's form for a request on someone's behalf. Posted, never in a URL: the subject is personal data.
public sealed class FileOnBehalfInput
{
    public PrivacyRequestType Type { get; set; }

    /// How the person is named: email, objectId or authorId.
    public string SubjectBy { get; set; } = SubjectKinds.Email;

    public string? Subject { get; set; }

    public string? Verification { get; set; }

    public bool DryRun { get; set; }

    public bool AnonymizeNow { get; set; }
}

public static class SubjectKinds
{
    public const string Email = "email";
    public const string ObjectId = "objectId";
    public const string AuthorId = "authorId";
}

/// Issue 11, the privacy officer's face: every request, open ones first and the most overdue at the top, with its
/// days left; approve or deny a pending erasure; file a request on someone's behalf. Anyone else gets the access
/// denied page. Subjects show only as their keyed hash.
public sealed class RequestsModel(PrivacyRequests requests, TimeProvider clock, IOptions<PrivacyOptions> options) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    /// The page of the queue ("p": "page" is the route value that names a Razor page).
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    [BindProperty]
    public FileOnBehalfInput Input { get; set; } = new();

    public IReadOnlyList<PrivacyRequestResource> Items { get; private set; } = [];
    public bool HasNext { get; private set; }
    public int Open { get; private set; }
    public int Overdue { get; private set; }
    public int Pending { get; private set; }
    public DateTimeOffset Now { get; private set; }
    public int DueDays => options.Value.DueDays;

    /// The filing form's problem, shown beside the form it came from (the page is rendered again with its input).
    public string? FileError { get; private set; }

    public string? FileErrorField { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public PrivacyRequestStatus? Filter => Enum.TryParse<PrivacyRequestStatus>(Status, ignoreCase: true, out var s) && Enum.IsDefined(s) && !int.TryParse(Status, out _) ? s : null;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        await LoadAsync(caller, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostFileAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        var value = Input.Subject?.Trim();
        SubjectInput? subject = null;
        if (string.IsNullOrEmpty(value))
        {
            (FileErrorField, FileError) = ("subject", "Name the person: their email address, object ID or author ID.");
        }
        else if (Input.SubjectBy == SubjectKinds.ObjectId)
        {
            if (Guid.TryParse(value, out var id))
            {
                subject = new SubjectInput(null, id, null);
            }
            else
            {
                (FileErrorField, FileError) = ("subject", "An object ID is a GUID, like 00000000-0000-4000-8000-000000000007.");
            }
        }
        else
        {
            subject = Input.SubjectBy == SubjectKinds.AuthorId ? new SubjectInput(null, null, value) : new SubjectInput(value, null, null);
        }
        if (subject is not null)
        {
            var result = await requests.FileAsync(caller, new FileRequest(Input.Type, subject, Input.DryRun, Input.AnonymizeNow, Input.Verification), ct);
            if (result.Request is { } filed)
            {
                Message = filed.Approval == ApprovalState.Pending
                    ? "The erasure is filed. It runs once a privacy officer approves it."
                    : $"The {RequestText.Kind(PrivacyRequestEndpoints.ToResource(filed, clock.GetUtcNow())).ToLowerInvariant()} is filed and runs now.";
                return RedirectToPage("/Privacy/Requests/Request", new { id = filed.Id });
            }
            (FileErrorField, FileError) = (result.Field?.StartsWith("subject", StringComparison.Ordinal) == true ? "subject" : result.Field, RequestText.Problem(result));
        }
        await LoadAsync(caller, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostApproveAsync(Guid id, string? reason, CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        return Done(await requests.ApproveAsync(caller, id, reason, ct), $"Request {RequestText.Handle(id)} is approved: the erasure runs now.");
    }

    public async Task<IActionResult> OnPostDenyAsync(Guid id, string? reason, CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (!caller.IsOfficer)
        {
            return Forbid();
        }
        return Done(await requests.DenyAsync(caller, id, reason, ct), $"Request {RequestText.Handle(id)} is denied.");
    }

    private RedirectToPageResult Done(RequestResult result, string success)
    {
        if (RequestText.Problem(result) is { } problem)
        {
            Error = problem;
        }
        else
        {
            Message = success;
        }
        return RedirectToPage(new { status = Filter?.ToString(), p = PageNumber > 1 ? PageNumber : (int?)null });
    }

    private async Task LoadAsync(PrivacyCaller caller, CancellationToken ct)
    {
        Now = clock.GetUtcNow();
        PageNumber = Math.Max(1, PageNumber);
        var now = Now;
        var all = await requests.ListAsync(caller, null, all: true, ct);
        var open = all.Where(r => r.Status != PrivacyRequestStatus.Completed && r.Status != PrivacyRequestStatus.Denied && r.Status != PrivacyRequestStatus.Cancelled);
        Open = await open.CountAsync(ct);
        Overdue = await open.CountAsync(r => r.DueAt < now, ct);
        Pending = await open.CountAsync(r => r.Approval == ApprovalState.Pending, ct);
        var rows = await (await requests.ListAsync(caller, Filter, all: true, ct))
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1).ToListAsync(ct);
        HasNext = rows.Count > PageSize;
        Items = rows.Take(PageSize).Select(r => PrivacyRequestEndpoints.ToResource(r, now)).ToList();
    }
}
