using Lethe.Identity;
using Lethe.Privacy;
using Lethe.Server.Portal.Account;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal;

public sealed record OwnAccount(Guid ObjectId, string? Email, string DisplayName, DateTimeOffset CreatedAt);

/// The personal-data map, and the subject's own account as Lethe holds it.
public sealed class PrivacyModel(LetheDb db, PersonalDataMap map, SignInManager<LetheUser> signIn) : PageModel
{
    public IReadOnlyList<PersonalDataLocation> Locations => map.Locations;
    public OwnAccount Account { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var id = User.ObjectId();
        var account = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new OwnAccount(u.Id, u.Email, u.DisplayName, u.CreatedAt)).FirstOrDefaultAsync(ct);
        if (account is null)
        {
            return await this.EndSessionAsync(signIn);
        }
        Account = account;
        return Page();
    }
}
