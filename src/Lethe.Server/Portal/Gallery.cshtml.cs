using Lethe.Identity;
using Lethe.Privacy;
using Lethe.Server.Portal.Shared;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

public sealed class GalleryModel(LetheDb db, PersonalDataMap map, AuthorIds authorIds) : PageModel
{
    public ModuleOverview Overview { get; private set; } = null!;

    /// Null when the account has no email address (an external user whose token named none): no email, no Author ID.
    public string? AuthorId { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        var id = User.ObjectId();
        Overview = await ModuleOverview.LoadAsync("Gallery", db, map, id, ct);
        var email = await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.Email).FirstOrDefaultAsync(ct);
        AuthorId = string.IsNullOrWhiteSpace(email) ? null : await authorIds.ForAsync(email, ct);
    }
}
