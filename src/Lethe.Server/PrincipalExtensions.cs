using System.Security.Claims;

namespace Lethe.Server;

public static class PrincipalExtensions
{
    /// The signed-in user's object ID. Endpoints that call it require authorization, so it is present.
    public static Guid ObjectId(this ClaimsPrincipal principal)
        => Guid.Parse(principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No signed-in user."));
}
