using Lethe.Labs;
using Lethe.Resources;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

public sealed class LabsModel(LetheDb db) : PageModel
{
    public IReadOnlyList<Lab> Labs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var labs = new List<Lab>();
        foreach (var subscription in await db.VisibleSubscriptions(me).Select(s => s.Id).ToListAsync(ct))
        {
            labs.AddRange(await db.VisibleLabs(me, subscription).AsNoTracking().OrderBy(l => l.ResourceGroupKey).ThenBy(l => l.NameKey).ToListAsync(ct));
        }
        Labs = labs;
    }
}
