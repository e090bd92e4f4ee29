using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Server.Api.Labs;
using Lethe.Server.Portal.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

/// The labs the user can see; Create lab in a resource group where they can write (through the API's handler).
public sealed class LabsModel(LetheDb db, TimeProvider clock) : PageModel
{
    public IReadOnlyList<Lab> Labs { get; private set; } = [];

    public IReadOnlyList<WritableGroup> Groups { get; private set; } = [];

    [TempData]
    public string? Error { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var labs = new List<Lab>();
        foreach (var subscription in await db.VisibleSubscriptions(me).Select(s => s.Id).ToListAsync(ct))
        {
            labs.AddRange(await db.VisibleLabs(me, subscription).AsNoTracking().OrderBy(l => l.ResourceGroupKey).ThenBy(l => l.NameKey).ToListAsync(ct));
        }
        Labs = labs;
        Groups = await WritableGroup.LoadAsync(db, me, ct);
    }

    public async Task<IActionResult> OnPostCreateAsync(string? group, string? name, string? location, CancellationToken ct)
    {
        if (!WritableGroup.TryParse(group, out var subscriptionId, out var resourceGroup))
        {
            Error = "Choose a resource group.";
            return RedirectToPage();
        }
        var groupKey = resourceGroup.ToLowerInvariant();
        var nameKey = name?.ToLowerInvariant();
        if (Guid.TryParse(subscriptionId, out var sub) && await db.Labs.AnyAsync(l => l.SubscriptionId == sub && l.ResourceGroupKey == groupKey && l.NameKey == nameKey, ct))
        {
            // The API's PUT also updates: from the portal, Create never changes an existing lab.
            Error = "A lab with this name exists in the resource group.";
            return RedirectToPage();
        }
        var result = await LabEndpoints.PutLabAsync(subscriptionId, resourceGroup, name ?? "", new CreateLabRequest(location ?? ""), User, db, clock, ct);
        if (HandlerOutcome.ErrorOf(result) is { } error)
        {
            Error = error;
            return RedirectToPage();
        }
        TempData["Message"] = $"Created lab {name}.";
        return Redirect($"/labs/{subscriptionId}/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name!)}");
    }
}
