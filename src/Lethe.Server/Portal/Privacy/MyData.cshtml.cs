using Lethe.Client;
using Lethe.Identity;
using Lethe.Privacy;
using Lethe.Privacy.Requests;
using Lethe.Server.Api;
using Lethe.Server.Portal.Account;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Portal.Privacy;

/// One place of the personal-data map and how many of the person's records it holds.
public sealed record HeldPlace(PersonalDataLocation Location, long Records);

/// One module's share of what Lethe holds about the person.
public sealed record HeldModule(string Module, IReadOnlyList<HeldPlace> Places)
{
    public long Records => Places.Sum(p => p.Records);
}

/// Issue 11, the subject's face: what Lethe holds about me (counted by the same sources an export and an erasure
/// use), Export my data, Delete my data (a dry run first, confirmed on the next page), and my requests.
public sealed class MyDataModel(LetheDb db, PrivacyRequests requests, PersonalDataSources sources, TimeProvider clock, SignInManager<LetheUser> signIn, IOptions<PrivacyOptions> options) : PageModel
{
    /// The newest requests shown; older ones are still found by the API (GET /privacy/requests).
    public const int ShownRequests = 50;

    public IReadOnlyList<HeldModule> Modules { get; private set; } = [];
    public IReadOnlyList<PrivacyRequestResource> Requests { get; private set; } = [];
    public PrivacyRequestResource? OpenErasure { get; private set; }
    public DateTimeOffset Now { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public long Total => Modules.Sum(m => m.Records);

    /// An erasure waits for a privacy officer (Lethe:Privacy:ErasureApproval), and the page says so only then.
    public bool OfficerApproves => options.Value.ErasureApproval == ErasureApproval.Officer;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        if (!await db.Users.AnyAsync(u => u.Id == me, ct))
        {
            return await this.EndSessionAsync(signIn);
        }
        Now = clock.GetUtcNow();
        // Every key the person is known by, then each place's own source counts their records: the same finds an
        // export runs, so the numbers are what the bundle will hold. One index seek (or one document walk) per place.
        var keys = await sources.ResolveAsync(SubjectKeys.ForObjectId(me), ct);
        var places = new List<HeldPlace>();
        foreach (var located in sources.InOrder)
        {
            long records = 0;
            await foreach (var _ in located.Source.FindAsync(keys, ct))
            {
                records++;
            }
            places.Add(new HeldPlace(located.Location, records));
        }
        Modules = places.GroupBy(p => p.Location.Module, StringComparer.Ordinal)
            .Select(g => new HeldModule(g.Key, [.. g]))
            .OrderBy(m => m.Module, StringComparer.Ordinal)
            .ToList();

        var caller = await requests.CallerAsync(me, ct);
        var mine = await (await requests.ListAsync(caller, null, all: false, ct))
            .OrderByDescending(r => r.ReceivedAt).Take(ShownRequests).ToListAsync(ct);
        Requests = mine.Select(r => PrivacyRequestEndpoints.ToResource(r, Now)).ToList();
        if (await RequestText.OpenErasureAsync(requests, caller, ct) is { } open)
        {
            OpenErasure = PrivacyRequestEndpoints.ToResource(open, Now);
        }
        return Page();
    }

    /// Files an export for the signed-in user and shows it.
    public async Task<IActionResult> OnPostExportAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        var result = await requests.FileAsync(caller, new FileRequest(PrivacyRequestType.Export, null, DryRun: false, AnonymizeNow: false, null), ct);
        if (result.Request is not { } request)
        {
            Error = RequestText.Problem(result);
            return RedirectToPage();
        }
        Message = "Your export is running. The download appears here when it is ready.";
        return RedirectToPage("/Privacy/MyData/Request", new { id = request.Id });
    }

    /// Delete my data, first step: a dry run, whose preview the confirmation page shows. Nothing changes yet.
    public async Task<IActionResult> OnPostEraseAsync(CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        if (await RequestText.OpenErasureAsync(requests, caller, ct) is { } open)
        {
            Error = "You have already asked for your data to be erased; that request is shown below.";
            return RedirectToPage("/Privacy/MyData/Request", new { id = open.Id });
        }
        var result = await requests.FileAsync(caller, new FileRequest(PrivacyRequestType.Erasure, null, DryRun: true, AnonymizeNow: false, null), ct);
        if (result.Request is not { } request)
        {
            Error = RequestText.Problem(result);
            return RedirectToPage();
        }
        return RedirectToPage("/Privacy/MyData/Erase", new { id = request.Id });
    }

    public async Task<IActionResult> OnPostCancelAsync(Guid id, CancellationToken ct)
    {
        var caller = await requests.CallerAsync(User.ObjectId(), ct);
        var result = await requests.CancelAsync(caller, id, ct);
        if (RequestText.Problem(result) is { } problem)
        {
            Error = problem;
        }
        else
        {
            Message = "The request is cancelled.";
        }
        return RedirectToPage();
    }
}
