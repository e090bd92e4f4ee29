using System.Security.Claims;
using Lethe.Client;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api;

/// Subscriptions and resource groups on Azure Resource Manager's paths.
public static class ResourceEndpoints
{
    public const string ResourceGroupType = "Microsoft.Resources/resourceGroups";

    public static void MapResourceEndpoints(this WebApplication app)
    {
        var subscriptions = app.MapGroup("/subscriptions").RequireAuthorization().WithTags("Resources");
        subscriptions.MapGet("", ListSubscriptionsAsync).WithName("ListSubscriptions");
        subscriptions.MapPut("/{subscriptionId}", PutSubscriptionAsync).WithName("CreateOrUpdateSubscription");
        subscriptions.MapGet("/{subscriptionId}", GetSubscriptionAsync).WithName("GetSubscription");
        subscriptions.MapGet("/{subscriptionId}/resourceGroups", ListResourceGroupsAsync).WithName("ListResourceGroups");
        subscriptions.MapPut("/{subscriptionId}/resourceGroups/{resourceGroupName}", PutResourceGroupAsync).WithName("CreateOrUpdateResourceGroup");
        subscriptions.MapGet("/{subscriptionId}/resourceGroups/{resourceGroupName}", GetResourceGroupAsync).WithName("GetResourceGroup");
        subscriptions.MapDelete("/{subscriptionId}/resourceGroups/{resourceGroupName}", DeleteResourceGroupAsync).WithName("DeleteResourceGroup");
    }

    public static async Task<Results<Ok<ArmList<SubscriptionResource>>, ValidationProblem>> ListSubscriptionsAsync(
        ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } problem)
        {
            return problem;
        }
        var query = db.VisibleSubscriptions(principal.ObjectId()).AsNoTracking().OrderBy(s => s.DisplayName).ThenBy(s => s.Id);
        return TypedResults.Ok(await Paging.PageAsync(query, request, top, skipToken, ToResource, ct));
    }

    public static async Task<Results<Ok<SubscriptionResource>, ProblemHttpResult, ValidationProblem>> GetSubscriptionAsync(
        string subscriptionId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!TryParseSubscription(subscriptionId, out var id, out var invalid))
        {
            return invalid;
        }
        var subscription = await db.VisibleSubscriptions(principal.ObjectId()).AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return subscription is null ? Problems.NotFound("The subscription") : TypedResults.Ok(ToResource(subscription));
    }

    /// Only an Owner at the root scope (the operator) makes subscriptions; their owners rename them.
    public static async Task<Results<Created<SubscriptionResource>, Ok<SubscriptionResource>, ProblemHttpResult, ValidationProblem>> PutSubscriptionAsync(
        string subscriptionId, CreateSubscriptionRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!TryParseSubscription(subscriptionId, out var id, out var invalid))
        {
            return invalid;
        }
        var displayName = request.DisplayName?.Trim();
        if (string.IsNullOrEmpty(displayName) || displayName.Length > 128 || displayName.Any(char.IsControl))
        {
            return Problems.Invalid("displayName", "A subscription's display name has 1 to 128 characters and no control characters.");
        }
        var existing = await db.Subscriptions.FirstOrDefaultAsync(s => s.Id == id, ct);
        var scope = existing is null ? ResourceId.Root : ResourceId.ForSubscription(id);
        var decision = await db.CheckAsync(principal.ObjectId(), scope, Right.Write, ct);
        if (decision != AccessDecision.Allowed)
        {
            return existing is null && decision == AccessDecision.NotFound ? Problems.Forbidden(nameof(Right.Write)) : Problems.Denied(decision, "The subscription", Right.Write);
        }
        if (existing is not null)
        {
            existing.DisplayName = displayName;
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(ToResource(existing));
        }
        var created = new Subscription { Id = id, DisplayName = displayName, CreatedAt = clock.GetUtcNow() };
        db.Subscriptions.Add(created);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created(created.ResourceId.Value, ToResource(created));
    }

    public static async Task<Results<Ok<ArmList<ResourceGroupResource>>, ProblemHttpResult, ValidationProblem>> ListResourceGroupsAsync(
        string subscriptionId, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (!TryParseSubscription(subscriptionId, out var id, out var invalid))
        {
            return invalid;
        }
        if (Paging.Problem(top, skipToken) is { } problem)
        {
            return problem;
        }
        var me = principal.ObjectId();
        if (!await db.VisibleSubscriptions(me).AnyAsync(s => s.Id == id, ct))
        {
            return Problems.NotFound("The subscription");
        }
        var query = db.VisibleResourceGroups(me, id).AsNoTracking().OrderBy(g => g.NameKey);
        return TypedResults.Ok(await Paging.PageAsync(query, request, top, skipToken, ToResource, ct));
    }

    public static async Task<Results<Ok<ResourceGroupResource>, ProblemHttpResult, ValidationProblem>> GetResourceGroupAsync(
        string subscriptionId, string resourceGroupName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (!TryParseGroup(subscriptionId, resourceGroupName, out var id, out var invalid))
        {
            return invalid;
        }
        var decision = await db.CheckAsync(principal.ObjectId(), id, Right.Read, ct);
        var group = decision == AccessDecision.Allowed ? await db.ResourceGroups.FindGroupAsync(id, ct) : null;
        return group is null ? Problems.NotFound("The resource group") : TypedResults.Ok(ToResource(group));
    }

    public static async Task<Results<Created<ResourceGroupResource>, Ok<ResourceGroupResource>, ProblemHttpResult, ValidationProblem>> PutResourceGroupAsync(
        string subscriptionId, string resourceGroupName, CreateResourceGroupRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!TryParseGroup(subscriptionId, resourceGroupName, out var id, out var invalid))
        {
            return invalid;
        }
        var location = request.Location?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(location) || location.Length > 64 || !location.All(char.IsAsciiLetterOrDigit))
        {
            return Problems.Invalid("location", "A location is 1 to 64 letters and digits, such as 'westeurope'.");
        }
        var decision = await db.CheckAsync(principal.ObjectId(), id, Right.Write, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The subscription", Right.Write);
        }
        if (!await db.Subscriptions.AnyAsync(s => s.Id == id.SubscriptionId, ct))
        {
            return Problems.NotFound("The subscription");
        }
        var existing = await db.ResourceGroups.FindGroupAsync(id, ct, tracking: true);
        if (existing is not null)
        {
            existing.Location = location;
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(ToResource(existing));
        }
        var group = new ResourceGroup { SubscriptionId = id.SubscriptionId!.Value, Name = id.ResourceGroup!, NameKey = id.ResourceGroup!.ToLowerInvariant(), Location = location, CreatedAt = clock.GetUtcNow() };
        db.ResourceGroups.Add(group);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created(group.ResourceId.Value, ToResource(group));
    }

    /// Deletes the group and everything in it, as a durable job: 202 with the operation's status URL.
    public static async Task<Results<AcceptedAtRoute<OperationStatus>, ProblemHttpResult, ValidationProblem>> DeleteResourceGroupAsync(
        string subscriptionId, string resourceGroupName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, HttpContext context, CancellationToken ct)
    {
        if (!TryParseGroup(subscriptionId, resourceGroupName, out var id, out var invalid))
        {
            return invalid;
        }
        var me = principal.ObjectId();
        var decision = await db.CheckAsync(me, id, Right.Delete, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The resource group", Right.Delete);
        }
        if (await db.ResourceGroups.FindGroupAsync(id, ct) is null)
        {
            return Problems.NotFound("The resource group");
        }
        var job = await DeleteResourceGroup.EnqueueAsync(db, id, me, clock, ct);
        return OperationEndpoints.Accepted(context, job);
    }

    public static Task<ResourceGroup?> FindGroupAsync(this IQueryable<ResourceGroup> groups, ResourceId id, CancellationToken ct, bool tracking = false)
    {
        var key = id.ResourceGroup!.ToLowerInvariant();
        var query = groups.Where(g => g.SubscriptionId == id.SubscriptionId && g.NameKey == key);
        return (tracking ? query : query.AsNoTracking()).FirstOrDefaultAsync(ct);
    }

    internal static bool TryParseSubscription(string value, out Guid id, out ValidationProblem problem)
    {
        problem = null!;
        if (Guid.TryParseExact(value, "D", out id))
        {
            return true;
        }
        problem = Problems.Invalid("subscriptionId", "The subscription ID is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).");
        return false;
    }

    internal static bool TryParseGroup(string subscriptionId, string resourceGroupName, out ResourceId id, out ValidationProblem problem)
    {
        id = ResourceId.Root;
        if (!TryParseSubscription(subscriptionId, out var subscription, out problem))
        {
            return false;
        }
        if (ResourceId.NameProblem(resourceGroupName, "resource group name") is { } nameProblem)
        {
            problem = Problems.Invalid("resourceGroupName", nameProblem);
            return false;
        }
        id = ResourceId.ForResourceGroup(subscription, resourceGroupName);
        return true;
    }

    private static SubscriptionResource ToResource(Subscription s) => new(s.ResourceId.Value, s.Id, s.DisplayName, "Enabled");

    private static ResourceGroupResource ToResource(ResourceGroup g)
        => new(g.ResourceId.Value, g.Name, ResourceGroupType, g.Location, new ResourceGroupProperties("Succeeded"));
}
