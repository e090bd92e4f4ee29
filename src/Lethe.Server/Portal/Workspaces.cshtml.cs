using Lethe.Privacy;
using Lethe.Server.Portal.Shared;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal;

public sealed class WorkspacesModel(LetheDb db, PersonalDataMap map) : PageModel
{
    public ModuleOverview Overview { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct)
        => Overview = await ModuleOverview.LoadAsync("Workspaces", db, map, User.ObjectId(), ct);
}
