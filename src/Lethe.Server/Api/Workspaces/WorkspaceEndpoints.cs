using System.Security.Claims;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Resources;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Workspaces;

/// Azure ML workspaces on Azure Resource Manager's paths (seed 001), with their members, assets, jobs and storage.
public static class WorkspaceEndpoints
{
    public const string WorkspaceType = "Microsoft.MachineLearningServices/workspaces";
    public const string Base = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}";

    public static void MapWorkspaceEndpoints(this WebApplication app)
    {
        var root = app.MapGroup("/subscriptions/{subscriptionId}").RequireAuthorization().WithTags("Workspaces")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        root.MapGet("/providers/Microsoft.MachineLearningServices/workspaces", ListBySubscriptionAsync).WithName("ListWorkspacesBySubscription").Produces<ArmList<WorkspaceResource>>();
        root.MapGet("/providers/Microsoft.MachineLearningServices/deletedWorkspaces", ListDeletedAsync).WithName("ListDeletedWorkspaces").Produces<ArmList<WorkspaceResource>>();
        root.MapGet("/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces", ListByGroupAsync).WithName("ListWorkspaces").Produces<ArmList<WorkspaceResource>>();

        var ws = app.MapGroup(Base).RequireAuthorization().WithTags("Workspaces")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        ws.MapPut("", PutAsync).WithName("CreateOrUpdateWorkspace").Produces<WorkspaceResource>().Produces<WorkspaceResource>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        ws.MapGet("", GetAsync).WithName("GetWorkspace").Produces<WorkspaceResource>();
        ws.MapDelete("", DeleteAsync).WithName("DeleteWorkspace").Produces<WorkspaceResource>().Produces<OperationStatus>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);
        ws.MapPost("/recover", RecoverAsync).WithName("RecoverWorkspace").Produces<WorkspaceResource>().ProducesProblem(StatusCodes.Status409Conflict);
        ws.MapGet("/companions", CompanionsAsync).WithName("ListCompanionResources").Produces<IReadOnlyList<CompanionResource>>();
        ws.MapGet("/members", ListMembersAsync).WithName("ListWorkspaceMembers").Produces<IReadOnlyList<WorkspaceMemberResource>>();
        ws.MapPost("/members", AddMemberAsync).WithName("AddWorkspaceMember").Produces<WorkspaceMemberResource>().Produces<WorkspaceMemberResource>(StatusCodes.Status201Created);
        ws.MapDelete("/members/{principalId}", RemoveMemberAsync).WithName("RemoveWorkspaceMember").Produces(StatusCodes.Status204NoContent);
        AssetEndpoints.Map(ws);
        JobEndpoints.Map(ws);
    }

    public static async Task<IResult> ListBySubscriptionAsync(string subscriptionId, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
        => await ListAsync(subscriptionId, null, principal, db, deleted: false, request, top, skipToken, ct);

    public static async Task<IResult> ListByGroupAsync(string subscriptionId, string resourceGroupName, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
        => await ListAsync(subscriptionId, resourceGroupName, principal, db, deleted: false, request, top, skipToken, ct);

    public static async Task<IResult> ListDeletedAsync(string subscriptionId, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
        => await ListAsync(subscriptionId, null, principal, db, deleted: true, request, top, skipToken, ct);

    /// The workspaces the caller can read: a role on the subscription, the group or the workspace itself.
    private static async Task<IResult> ListAsync(string subscriptionId, string? resourceGroupName, ClaimsPrincipal principal, LetheDb db, bool deleted, HttpRequest request, int? top, string? skipToken, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        if (!ResourceEndpoints.TryParseSubscription(subscriptionId, out var sub, out var invalid))
        {
            return invalid;
        }
        if (resourceGroupName is not null && ResourceId.NameProblem(resourceGroupName, "resource group name") is { } groupProblem)
        {
            return Problems.Invalid("resourceGroupName", groupProblem);
        }
        var me = principal.ObjectId();
        var visible = await VisibleQueryAsync(db, me, sub, resourceGroupName?.ToLowerInvariant(), deleted, ct);
        if (visible is null)
        {
            return Problems.NotFound(resourceGroupName is null ? "The subscription" : "The resource group");
        }
        return TypedResults.Ok(await Paging.PageAsync(visible, request, top, skipToken, ToResource, ct));
    }

    /// Null when the caller has no role at all in the subscription (404). Otherwise the workspaces a role
    /// of the caller reaches: at the root, on the subscription, on the workspace's group, on the workspace
    /// or below it; one query, filtered in the database.
    internal static async Task<List<Workspace>?> VisibleAsync(LetheDb db, Guid me, Guid subscriptionId, string? groupKey, bool deleted, CancellationToken ct)
        => await VisibleQueryAsync(db, me, subscriptionId, groupKey, deleted, ct) is { } query ? await query.Take(Paging.MaxTop).ToListAsync(ct) : null;

    /// The query behind <see cref="VisibleAsync"/>, ordered by group and name, for paging.
    private static async Task<IQueryable<Workspace>?> VisibleQueryAsync(LetheDb db, Guid me, Guid subscriptionId, string? groupKey, bool deleted, CancellationToken ct)
    {
        var mine = db.RoleAssignments.Where(a => a.PrincipalId == me && a.Role != Role.PrivacyOfficer && (a.SubscriptionId == null || a.SubscriptionId == subscriptionId));
        if (!await mine.AnyAsync(ct))
        {
            return null;
        }
        var groups = ResourceId.ForSubscription(subscriptionId).Key + "/resourcegroups/";
        const string provider = "/providers/microsoft.machinelearningservices/workspaces/";
        var query = db.Workspaces.AsNoTracking().Where(w => w.SubscriptionId == subscriptionId);
        query = deleted ? query.Where(w => w.DeletedAt != null) : query.Where(w => w.DeletedAt == null);
        if (groupKey is not null)
        {
            query = query.Where(w => w.ResourceGroupKey == groupKey);
        }
        query = query.Where(w => mine.Any(a =>
            a.SubscriptionId == null
            || a.ResourceGroupKey == null
            || (a.ResourceGroupKey == w.ResourceGroupKey && (a.ScopeKey == groups + w.ResourceGroupKey
                || a.ScopeKey == groups + w.ResourceGroupKey + provider + w.NameKey
                || a.ScopeKey.StartsWith(groups + w.ResourceGroupKey + provider + w.NameKey + "/")))));
        return query.OrderBy(w => w.ResourceGroupKey).ThenBy(w => w.NameKey);
    }

    public static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string workspaceName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        return lookup.Problem ?? TypedResults.Ok(ToResource(lookup.Workspace!));
    }

    public static async Task<IResult> PutAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, CreateWorkspaceRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!ResourceEndpoints.TryParseGroup(subscriptionId, resourceGroupName, out var groupId, out var invalid))
        {
            return invalid;
        }
        if (WorkspaceNames.WorkspaceNameProblem(workspaceName) is { } nameProblem)
        {
            return Problems.Invalid("workspaceName", nameProblem);
        }
        var location = request.Location?.Trim().ToLowerInvariant();
        if (WorkspaceNames.LocationProblem(location) is { } locationProblem)
        {
            return Problems.Invalid("location", locationProblem);
        }
        WorkspaceSku? sku = null;
        if (request.Sku is not null)
        {
            if (!Enum.TryParse<WorkspaceSku>(request.Sku.Name, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return Problems.Invalid("sku.name", "The SKU is 'Free' or 'Paid'.");
            }
            sku = parsed;
        }
        if (request.SoftDeleteRetentionInDays is { } days && SoftDeleteWorkspace.RetentionProblem(days) is { } retentionProblem)
        {
            return Problems.Invalid("softDeleteRetentionInDays", retentionProblem);
        }
        var id = WorkspaceIds.Workspace(groupId.SubscriptionId!.Value, groupId.ResourceGroup!, workspaceName);
        var me = principal.ObjectId();
        var decision = await db.CheckAsync(me, id, Right.Write, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The resource group", Right.Write);
        }
        var group = await db.ResourceGroups.FindGroupAsync(groupId, ct);
        if (group is null)
        {
            return Problems.NotFound("The resource group");
        }
        var existing = await db.FindWorkspaceAsync(group.SubscriptionId, group.Name, workspaceName, ct);
        if (existing is { DeletedAt: not null })
        {
            return Problems.Conflict("A soft-deleted workspace holds this name until it is recovered or purged.");
        }
        if (existing is not null)
        {
            existing.Location = location!;
            existing.Sku = sku ?? existing.Sku;
            existing.SoftDeleteRetentionDays = request.SoftDeleteRetentionInDays ?? existing.SoftDeleteRetentionDays;
            // Purge protection, once on, stays on (as Key Vault's).
            existing.PurgeProtection |= request.EnablePurgeProtection ?? false;
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(ToResource(existing));
        }
        var workspace = CreateWorkspace.New(group, workspaceName, location!, sku ?? WorkspaceSku.Free,
            request.SoftDeleteRetentionInDays ?? Workspace.DefaultRetentionDays, request.EnablePurgeProtection ?? false, clock.GetUtcNow());
        db.Workspaces.Add(workspace);
        // The creator is the workspace's first member, as its Owner: listed with the others, and the person whose
        // workspace it is while nobody else joins (seed 000's personal workspace).
        if (await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == principal.ObjectId(), ct) is { } creator)
        {
            WorkspaceMembers.Add(db, workspace, creator.Id, creator.Email ?? "", creator.DisplayName, Role.Owner, clock.GetUtcNow());
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Created(workspace.ResourceId.Value, ToResource(workspace));
    }

    /// Soft delete by default; `?forceToPurge=true` deletes permanently, as a durable job (202).
    public static async Task<IResult> DeleteAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, [FromQuery] bool? forceToPurge, ClaimsPrincipal principal,
        LetheDb db, IBlobStore blobs, TimeProvider clock, HttpContext context, CancellationToken ct)
    {
        var purge = forceToPurge == true;
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, purge ? Right.Purge : Right.Delete, ct, tracking: true);
        if (purge && lookup.Workspace is null && lookup.Problem is not null)
        {
            // A soft-deleted workspace is purged through the same call.
            var deleted = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Purge, ct, deleted: true, tracking: true);
            lookup = deleted.Workspace is not null ? deleted : lookup;
        }
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        if (!purge)
        {
            await SoftDeleteWorkspace.SoftDeleteAsync(db, blobs, workspace, clock.GetUtcNow(), ct);
            return TypedResults.Ok(ToResource(workspace));
        }
        if (workspace.DeletedAt is not null && !SoftDeleteWorkspace.CanPurgeNow(workspace, clock.GetUtcNow()))
        {
            return Problems.Conflict("Purge protection is on: this workspace can be purged once its retention ends.");
        }
        if (workspace.DeletedAt is null && workspace.PurgeProtection)
        {
            return Problems.Conflict("Purge protection is on: delete the workspace (soft delete); it is purged when its retention ends.");
        }
        var job = await PurgeWorkspace.EnqueueAsync(db, workspace, lookup.Principal, clock, ct);
        return OperationEndpoints.Accepted(context, job);
    }

    public static async Task<IResult> RecoverAsync(string subscriptionId, string resourceGroupName, string workspaceName, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Delete, ct, deleted: true, tracking: true);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        if (lookup.Workspace!.Purging)
        {
            return Problems.Conflict("The workspace is being purged; it cannot be recovered.");
        }
        var group = lookup.Workspace.ResourceGroupKey;
        if (!await db.ResourceGroups.AnyAsync(g => g.SubscriptionId == lookup.Workspace.SubscriptionId && g.NameKey == group, ct))
        {
            // Its group was deleted while purge protection kept it: recovered, it needs a group to live in.
            return Problems.Conflict("The workspace's resource group was deleted: create the resource group again, then recover the workspace.");
        }
        await SoftDeleteWorkspace.RecoverAsync(db, blobs, lookup.Workspace, ct);
        return TypedResults.Ok(ToResource(lookup.Workspace));
    }

    public static async Task<IResult> CompanionsAsync(string subscriptionId, string resourceGroupName, string workspaceName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        return lookup.Problem ?? TypedResults.Ok(Companions(lookup.Workspace!));
    }

    public static IReadOnlyList<CompanionResource> Companions(Workspace w)
        => new[] { WorkspaceIds.StorageAccount(w), WorkspaceIds.ContainerRegistry(w), WorkspaceIds.ApplicationInsights(w), WorkspaceIds.KeyVault(w) }
            .Select(id => new CompanionResource(id.Value, id.Name!, id.ResourceType!)).ToList();

    public static async Task<IResult> ListMembersAsync(string subscriptionId, string resourceGroupName, string workspaceName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var id = lookup.Workspace!.Id;
        var members = await db.WorkspaceMembers.AsNoTracking().Where(m => m.WorkspaceId == id).OrderBy(m => m.AddedAt).ThenBy(m => m.PrincipalId).ToListAsync(ct);
        return TypedResults.Ok(members.Select(ToResource).ToList());
    }

    public static async Task<IResult> AddMemberAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, AddWorkspaceMemberRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!Enum.TryParse<Role>(request.Role, ignoreCase: false, out var role) || !WorkspaceMembers.Roles.Contains(role))
        {
            return Problems.Invalid("role", "A member's role is Owner, Contributor or Reader.");
        }
        if (request.PrincipalId is null == string.IsNullOrWhiteSpace(request.Email))
        {
            return Problems.Invalid("principalId", "Give the member's principalId or email, one of them.");
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.ManageAccess, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var normalized = request.Email?.Trim().ToUpperInvariant();
        var user = request.PrincipalId is { } pid
            ? await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == pid, ct)
            : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
        if (user is null)
        {
            // The detail never echoes the email.
            return Problems.Invalid(request.PrincipalId is null ? "email" : "principalId", "No user has this object ID or email.");
        }
        var workspace = lookup.Workspace!;
        var existing = await db.WorkspaceMembers.AsNoTracking().FirstOrDefaultAsync(m => m.WorkspaceId == workspace.Id && m.PrincipalId == user.Id, ct);
        if (existing is null)
        {
            // Two adds of one principal at once: the member's primary key takes one, the other answers 409.
            await WorkspaceMembers.AddAsync(db, workspace, user.Id, user.Email ?? "", user.DisplayName, role, clock.GetUtcNow(), ct);
        }
        else if (existing.Role != role && !await WorkspaceMembers.ChangeRoleAsync(db, workspace, existing, role, clock.GetUtcNow(), ct))
        {
            return MemberChanged();
        }
        var member = await db.WorkspaceMembers.AsNoTracking().FirstOrDefaultAsync(m => m.WorkspaceId == workspace.Id && m.PrincipalId == user.Id, ct);
        if (member is null)
        {
            return MemberChanged();
        }
        return existing is null ? TypedResults.Created($"{workspace.ResourceId.Value}/members/{user.Id:D}", ToResource(member)) : TypedResults.Ok(ToResource(member));
    }

    private static ProblemHttpResult MemberChanged() => Problems.Conflict("Another request changed or removed this member at the same time; read the members again.");

    public static async Task<IResult> RemoveMemberAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string principalId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!Guid.TryParseExact(principalId, "D", out var pid))
        {
            return Problems.Invalid("principalId", "The principal ID is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).");
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.ManageAccess, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var member = await db.WorkspaceMembers.AsNoTracking().FirstOrDefaultAsync(m => m.WorkspaceId == lookup.Workspace!.Id && m.PrincipalId == pid, ct);
        if (member is null)
        {
            return Problems.NotFound("The member");
        }
        return await WorkspaceMembers.RemoveAsync(db, member, ct) ? TypedResults.NoContent() : MemberChanged();
    }

    public static WorkspaceResource ToResource(Workspace w) => new(
        w.ResourceId.Value, w.Name, WorkspaceType, w.Location, new ArmSku(w.Sku.ToString()),
        new WorkspaceProperties(
            w.DeletedAt is null ? "Succeeded" : w.Purging ? "Deleting" : "SoftDeleted",
            WorkspaceIds.StorageAccount(w).Value, WorkspaceIds.ContainerRegistry(w).Value, WorkspaceIds.ApplicationInsights(w).Value, WorkspaceIds.KeyVault(w).Value,
            w.SoftDeleteRetentionDays, w.PurgeProtection, w.CreatedAt, w.DeletedAt, w.PurgeAfter));

    private static WorkspaceMemberResource ToResource(WorkspaceMember m) => new(m.PrincipalId, m.Email, m.DisplayName, m.Role.ToString(), m.AddedAt);
}
