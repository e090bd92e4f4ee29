using Lethe.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.Data;

namespace Lethe.Server.Api;

/// Identity's `POST /identity/manage/2fa` makes the authenticator key on first use, and ignores the result of that
/// save: of two first calls at once, the one whose save lost to the other (the user's concurrency stamp) still answers
/// with its own key, read back from its unsaved change, though the stored key is the winner's. An app set up with it
/// would never work. This filter compares the key answered with the key stored and answers 409 when they differ
/// (decision 0070).
internal static class TwoFactorKeyCheck
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        var http = context.HttpContext;
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.Path.Value!.EndsWith("/manage/2fa", StringComparison.OrdinalIgnoreCase)
            || (result is INestedHttpResult nested ? nested.Result : result) is not Ok<TwoFactorResponse> { Value.SharedKey: { } answered })
        {
            return result;
        }
        var db = http.RequestServices.GetRequiredService<LetheDb>();
        var users = http.RequestServices.GetRequiredService<UserManager<LetheUser>>();
        // Forget the unsaved change, so that the key is read from the database.
        db.ChangeTracker.Clear();
        var user = await users.GetUserAsync(http.User);
        var stored = user is null ? null : await users.GetAuthenticatorKeyAsync(user);
        return stored == answered
            ? result
            : Problems.Conflict("Another request set up two-factor authentication at the same time; ask for the key again.");
    }
}
