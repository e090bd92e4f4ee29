using System.Security.Claims;
using Lethe.Client;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

/// Role assignments, on Azure's Microsoft.Authorization provider path. The scope travels in the
/// query string or body; a principal is named by object ID or, in the body only, by email.
public static class AccessEndpoints
{
    public const string Path = "/providers/Microsoft.Authorization/roleAssignments";
    public const string Type = "Microsoft.Authorization/roleAssignments";

    public static void MapAccessEndpoints(this WebApplication app)
    {
        var group = app.MapGroup(Path).RequireAuthorization().WithTags("Access");
        group.MapGet("", ListAsync).WithName("ListRoleAssignments");
        group.MapPut("/{roleAssignmentId}", PutAsync).WithName("CreateRoleAssignment");
        group.MapDelete("/{roleAssignmentId}", DeleteAsync).WithName("DeleteRoleAssignment");
    }

    /// The assignments that apply at a scope: on it and on every scope above it.
    public static async Task<Results<Ok<ArmList<RoleAssignmentResource>>, ProblemHttpResult, ValidationProblem>> ListAsync(
        string? scope, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!ResourceId.TryParse(scope, out var target, out var error))
        {
            return Problems.Invalid("scope", error);
        }
        var decision = await db.CheckAsync(principal.ObjectId(), target, Right.Read, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The scope", Right.Read);
        }
        var keys = target.ScopesFromRoot().Select(s => s.Key).ToArray();
        var rows = await db.RoleAssignments.AsNoTracking().Where(a => keys.Contains(a.ScopeKey)).OrderBy(a => a.ScopeKey).ThenBy(a => a.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(new ArmList<RoleAssignmentResource>(rows.Select(ToResource).ToList(), null));
    }

    public static async Task<Results<Created<RoleAssignmentResource>, ProblemHttpResult, ValidationProblem>> PutAsync(
        string roleAssignmentId, CreateRoleAssignmentRequest request, ClaimsPrincipal principal, LetheDb db, UserManager<Lethe.Identity.LetheUser> users, TimeProvider clock, CancellationToken ct)
    {
        if (!Guid.TryParseExact(roleAssignmentId, "D", out var id))
        {
            return Problems.Invalid("roleAssignmentId", "A role assignment ID is a GUID.");
        }
        if (!ResourceId.TryParse(request.Scope, out var scope, out var error))
        {
            return Problems.Invalid("scope", error);
        }
        if (Enum.GetNames<Role>().FirstOrDefault(n => n.Equals(request.RoleDefinitionName, StringComparison.OrdinalIgnoreCase)) is not { } roleName || !Enum.TryParse<Role>(roleName, out var role))
        {
            return Problems.Invalid("roleDefinitionName", $"The role is one of: {string.Join(", ", Enum.GetNames<Role>())}.");
        }
        if ((request.PrincipalId is null) == string.IsNullOrWhiteSpace(request.PrincipalEmail))
        {
            return Problems.Invalid("principalId", "Name the principal by principalId or by principalEmail, one of the two.");
        }
        var decision = await db.CheckAsync(principal.ObjectId(), scope, Right.ManageAccess, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The scope", Right.ManageAccess);
        }
        if (!await LiveScope.ExistsAsync(db, scope, ct))
        {
            return Problems.NotFound("The scope");
        }
        var user = request.PrincipalId is { } pid ? await users.FindByIdAsync(pid.ToString()) : await users.FindByEmailAsync(request.PrincipalEmail!);
        if (user is null)
        {
            // Never echo the email back: it is personal data.
            return Problems.Invalid(request.PrincipalId is null ? "principalEmail" : "principalId", "No user with that principal exists.");
        }
        if (await db.RoleAssignments.AnyAsync(a => a.Id == id, ct))
        {
            return Problems.Conflict("A role assignment with this ID exists already.");
        }
        if (await db.RoleAssignments.AnyAsync(a => a.PrincipalId == user.Id && a.ScopeKey == scope.Key && a.Role == role, ct))
        {
            return Problems.Conflict("The principal holds this role at this scope already.");
        }
        var assignment = RoleAssignment.Create(scope, user.Id, role, clock.GetUtcNow(), id);
        db.RoleAssignments.Add(assignment);
        await db.SaveChangesAsync(ct);
        // The fence (decision 0071): a delete of the scope that ran meanwhile may have swept its assignments before
        // this one was committed; then this write takes its own back, whatever happened to the request.
        if (!await LiveScope.ExistsAsync(db, scope, CancellationToken.None))
        {
            await db.RoleAssignments.Where(a => a.Id == id).ExecuteDeleteAsync(CancellationToken.None);
            return Problems.NotFound("The scope");
        }
        return TypedResults.Created($"{Path}/{id}", ToResource(assignment));
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(
        string roleAssignmentId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!Guid.TryParseExact(roleAssignmentId, "D", out var id))
        {
            return Problems.Invalid("roleAssignmentId", "A role assignment ID is a GUID.");
        }
        var assignment = await db.RoleAssignments.FirstOrDefaultAsync(a => a.Id == id, ct);
        if (assignment is null)
        {
            return Problems.NotFound("The role assignment");
        }
        var decision = await db.CheckAsync(principal.ObjectId(), ResourceId.Parse(assignment.Scope), Right.ManageAccess, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The role assignment", Right.ManageAccess);
        }
        // A member's assignment goes with the member (decision 0070): deleted alone, the member list would name
        // someone without access. Sought by the principal's index.
        if (await db.WorkspaceMembers.AnyAsync(m => m.PrincipalId == assignment.PrincipalId && m.RoleAssignmentId == id, ct))
        {
            return Problems.Conflict("This role assignment is a workspace membership: remove the member instead (DELETE .../members/{principalId}).");
        }
        db.RoleAssignments.Remove(assignment);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static RoleAssignmentResource ToResource(RoleAssignment a)
        => new($"{(a.Scope == "/" ? "" : a.Scope)}{Path}/{a.Id}", a.Id.ToString(), Type, new RoleAssignmentProperties(a.Scope, a.PrincipalId, a.Role.ToString(), a.CreatedAt));
}
