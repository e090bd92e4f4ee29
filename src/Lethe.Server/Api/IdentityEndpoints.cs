using System.Security.Claims;
using Lethe.Client;
using Lethe.Identity;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

public static class IdentityEndpoints
{
    public const int MaxDisplayNameLength = 256;

    public static void MapLetheIdentity(this WebApplication app)
    {
        // ASP.NET Core Identity's own endpoints: /identity/register, /identity/login (bearer tokens), /identity/refresh, ...
        app.MapGroup("/identity").WithTags("Identity").AddEndpointFilter(TwoFactorKeyCheck.FilterAsync).MapIdentityApi<LetheUser>();

        var me = app.MapGroup("/me").RequireAuthorization().WithTags("Identity");
        me.MapGet("", GetMeAsync).WithName("GetMe");
        me.MapPatch("", UpdateMeAsync).WithName("UpdateMe");
    }

    public static async Task<Results<Ok<Me>, ProblemHttpResult>> GetMeAsync(ClaimsPrincipal principal, LetheDb db, AuthorIds authorIds, CancellationToken ct)
    {
        var id = principal.ObjectId();
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return Problems.NotFound("Your account");
        }
        return TypedResults.Ok(await ToMeAsync(user, db, authorIds, ct));
    }

    public static async Task<Results<Ok<Me>, ValidationProblem, ProblemHttpResult>> UpdateMeAsync(UpdateMeRequest request, ClaimsPrincipal principal, LetheDb db, AuthorIds authorIds, CancellationToken ct)
    {
        var name = request.DisplayName?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxDisplayNameLength || name.Any(char.IsControl))
        {
            return Problems.Invalid("displayName", $"A display name has 1 to {MaxDisplayNameLength} characters and no control characters.");
        }
        var id = principal.ObjectId();
        var user = await db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
        if (user is null)
        {
            return Problems.NotFound("Your account");
        }
        user.DisplayName = name;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(await ToMeAsync(user, db, authorIds, ct));
    }

    private static async Task<Me> ToMeAsync(LetheUser user, LetheDb db, AuthorIds authorIds, CancellationToken ct)
    {
        var roles = await db.RolesOf(user.Id).Select(a => new MyRole(a.Scope, a.Role.ToString())).ToListAsync(ct);
        var email = user.Email ?? "";
        var authorId = email.Length > 0 ? await authorIds.ForAsync(email, ct) : "";
        return new Me(user.Id, email, user.DisplayName, authorId, roles);
    }
}
