using Lethe.Gallery;
using Lethe.Identity;
using Lethe.Privacy;
using Lethe.Server.Portal.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

/// The gallery's public items, newest first, with a search by name and kind.
public sealed class GalleryModel(LetheDb db, PersonalDataMap map, AuthorIds authorIds, GalleryCatalog catalog) : PageModel
{
    public const int PageSize = 50;

    public ModuleOverview Overview { get; private set; } = null!;

    /// Null when the account has no email address (an external user whose token named none): no email, no Author ID.
    public string? AuthorId { get; private set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public EntityKind? Kind { get; set; }

    public IReadOnlyList<CatalogItem> Items { get; private set; } = [];
    public int Total { get; private set; }
    public CatalogState? State { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var id = User.ObjectId();
        Overview = await ModuleOverview.LoadAsync("Gallery", db, map, id, ct);
        var email = await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.Email).FirstOrDefaultAsync(ct);
        AuthorId = string.IsNullOrWhiteSpace(email) ? null : await authorIds.ForAsync(email, ct);
        State = await catalog.FreshAsync(ct);
        var q = Q?.Trim();
        var matches = State.Entities.Values
            .Where(i => i.Visibility == Visibility.Public
                && (Kind is null || i.Kind == Kind)
                && (string.IsNullOrEmpty(q) || i.Name.Contains(q, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        Total = matches.Count;
        Items = matches.OrderByDescending(i => i.CreatedAt).ThenBy(i => i.Id).Take(PageSize).ToList();
    }
}
