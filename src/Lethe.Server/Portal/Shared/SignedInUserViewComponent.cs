using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Shared;

/// The header's account area. The display name is read per request rather than carried in the cookie, so
/// that a change (PATCH /me) shows at once.
public sealed class SignedInUserViewComponent(LetheDb db) : ViewComponent
{
    public async Task<IViewComponentResult> InvokeAsync()
    {
        var id = UserClaimsPrincipal.ObjectId();
        var user = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.DisplayName, u.Email }).FirstOrDefaultAsync(HttpContext.RequestAborted);
        // The email is the user's own, shown only to them, and only when they have no display name.
        var name = string.IsNullOrWhiteSpace(user?.DisplayName) ? user?.Email ?? "" : user.DisplayName;
        return View("Default", name);
    }
}
