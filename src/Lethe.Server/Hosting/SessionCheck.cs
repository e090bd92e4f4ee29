using Lethe.Identity;
using Lethe.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Lethe.Server.Hosting;

/// Every request signed in with a Lethe session (bearer token or portal cookie) is checked against the account as it
/// is now: a session whose account is gone, or whose security stamp changed since sign-in ends at once,
/// on every node. That is how an erasure stops everything the person could do the moment it starts (it changes the
/// stamp and locks the account), and how a password change ends other sessions. One primary-key read per request.
internal static class SessionCheck
{
    public static void UseSessionCheck(this WebApplication app)
        => app.Use(async (context, next) =>
        {
            if (context.User.Identity?.IsAuthenticated == true && !await IsCurrentAsync(context))
            {
                await context.SignOutAsync(IdentityConstants.ApplicationScheme);
                context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity());
                if (!ApiHosting.WantsHtml(context))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                    {
                        HttpContext = context,
                        ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                        {
                            Status = StatusCodes.Status401Unauthorized,
                            Title = "The session has ended.",
                            Detail = "This session is no longer valid (the account's security settings changed, or it was erased). Sign in again.",
                        },
                    });
                    return;
                }
            }
            await next(context);
        });

    private static async Task<bool> IsCurrentAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<IdentityOptions>>().Value;
        var stampClaim = context.User.FindFirst(options.ClaimsIdentity.SecurityStampClaimType)?.Value;
        if (stampClaim is null || !Guid.TryParse(context.User.FindFirst(options.ClaimsIdentity.UserIdClaimType)?.Value, out var id))
        {
            // Not a Lethe session (an external authority's token): its authority decides.
            return true;
        }
        var db = context.RequestServices.GetRequiredService<LetheDb>();
        var account = await db.Set<LetheUser>().AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.SecurityStamp }).FirstOrDefaultAsync(context.RequestAborted);
        return account is not null && account.SecurityStamp == stampClaim;
    }
}
