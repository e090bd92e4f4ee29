using Lethe.Telemetry;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Account;

/// My activity: the telemetry events Lethe recorded of the signed-in person (seed 000), newest first, a page at a time.
public sealed class ActivityModel(LetheDb db) : PageModel
{
    public const int PageSize = 100;

    [Microsoft.AspNetCore.Mvc.BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<TelemetryEvent> Events { get; private set; } = [];
    public bool HasNext { get; private set; }
    public int Total { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        var me = User.ObjectId();
        var mine = db.TelemetryEvents.AsNoTracking().Where(e => e.UserId == me);
        Total = await mine.CountAsync(ct);
        var page = await mine.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize + 1).ToListAsync(ct);
        HasNext = page.Count > PageSize;
        Events = page.Take(PageSize).ToList();
    }
}
