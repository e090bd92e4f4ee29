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
        // Oversized values are refused before anything else; registration is gated by `Lethe:Identity:Registration`
        // before Identity sees the request; a 2FA setup that lost a race to another answers 409, not a key it did not store.
        app.MapGroup("/identity").WithTags("Identity")
            .AddEndpointFilter(BoundedInputAsync)
            .AddEndpointFilter(AccountEndpoints.RegistrationGateAsync)
            .AddEndpointFilter(TwoFactorKeyCheck.FilterAsync)
            .MapIdentityApi<LetheUser>();
        app.MapAccountEndpoints();

        var me = app.MapGroup("/me").RequireAuthorization().WithTags("Identity");
        me.MapGet("", GetMeAsync).WithName("GetMe");
        me.MapPatch("", UpdateMeAsync).WithName("UpdateMe");
    }

    /// An email address longer than Identity stores (256).
    public const int MaxEmailLength = 256;

    /// Passwords, codes and refresh tokens: far longer than any Lethe issues or accepts.
    public const int MaxSecretLength = 4096;

    // Identity's endpoints answer 200 to an unknown email (forgotPassword, resendConfirmationEmail) so that
    // they do not tell who has an account. An address too long for any account is refused in words instead,
    // and no value of unbounded length reaches Identity (nor is echoed back by its validation).
    private static async ValueTask<object?> BoundedInputAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        foreach (var argument in context.Arguments)
        {
            if (argument is null || argument.GetType().Namespace != "Microsoft.AspNetCore.Identity.Data")
            {
                continue;
            }
            foreach (var property in argument.GetType().GetProperties())
            {
                if (property.PropertyType != typeof(string) || property.GetValue(argument) is not string value)
                {
                    continue;
                }
                var field = char.ToLowerInvariant(property.Name[0]) + property.Name[1..];
                var isEmail = property.Name.EndsWith("Email", StringComparison.Ordinal);
                var max = isEmail ? MaxEmailLength : MaxSecretLength;
                if (value.Length > max)
                {
                    return Problems.Invalid(field, $"'{field}' has at most {max} characters.");
                }
            }
        }
        return await next(context);
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
