using System.Globalization;
using System.Net.Mail;
using System.Security.Claims;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Labs;

/// Labs, their VMs and disks on Azure's Microsoft.DevTestLab paths (seed 002). Lab admins (Owner or
/// Contributor on the lab or above) manage everything; lab users see and act on their own VMs only,
/// and on claimable ones to claim them.
public static class LabEndpoints
{
    public const string LabPath = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab/labs/{labName}";

    public static void MapLabEndpoints(this WebApplication app)
    {
        var subs = app.MapGroup("/subscriptions/{subscriptionId}").RequireAuthorization().WithTags("Labs");
        subs.MapGet("/providers/Microsoft.DevTestLab/labs", ListSubscriptionLabsAsync).WithName("ListLabsBySubscription");
        subs.MapGet("/resourceGroups/{resourceGroupName}/providers/Microsoft.DevTestLab/labs", ListGroupLabsAsync).WithName("ListLabsByResourceGroup");

        var lab = app.MapGroup(LabPath).RequireAuthorization().WithTags("Labs");
        lab.MapGet("", GetLabAsync).WithName("GetLab");
        lab.MapPut("", PutLabAsync).WithName("CreateOrUpdateLab");
        lab.MapPatch("", PatchLabAsync).WithName("UpdateLab");
        lab.MapDelete("", DeleteLabAsync).WithName("DeleteLab");
        LabVirtualMachineEndpoints.Map(lab);
        LabDiskEndpoints.Map(lab);
        LabUsageEndpoints.Map(lab);
        LabShutdownEndpoints.MapVm(lab);
        LabShutdownEndpoints.Map(app);
    }

    public static async Task<Results<Ok<ArmList<LabResource>>, ProblemHttpResult, ValidationProblem>> ListSubscriptionLabsAsync(
        string subscriptionId, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (!ResourceEndpoints.TryParseSubscription(subscriptionId, out var id, out var invalid))
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
        var query = db.VisibleLabs(me, id).OrderBy(l => l.ResourceGroupKey).ThenBy(l => l.NameKey);
        return TypedResults.Ok(await Paging.PageAsync(query, request, top, skipToken, ToResource, ct));
    }

    public static async Task<Results<Ok<ArmList<LabResource>>, ProblemHttpResult, ValidationProblem>> ListGroupLabsAsync(
        string subscriptionId, string resourceGroupName, ClaimsPrincipal principal, LetheDb db, HttpRequest request, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, CancellationToken ct)
    {
        if (!ResourceEndpoints.TryParseGroup(subscriptionId, resourceGroupName, out var group, out var invalid))
        {
            return invalid;
        }
        if (Paging.Problem(top, skipToken) is { } problem)
        {
            return problem;
        }
        var decision = await db.CheckAsync(principal.ObjectId(), group, Right.Read, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The resource group", Right.Read);
        }
        var key = group.ResourceGroup!.ToLowerInvariant();
        var query = db.VisibleLabs(principal.ObjectId(), group.SubscriptionId!.Value).Where(l => l.ResourceGroupKey == key).OrderBy(l => l.NameKey);
        return TypedResults.Ok(await Paging.PageAsync(query, request, top, skipToken, ToResource, ct));
    }

    public static async Task<Results<Ok<LabResource>, ProblemHttpResult, ValidationProblem>> GetLabAsync(
        string subscriptionId, string resourceGroupName, string labName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, principal.ObjectId(), Right.Read, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        return found.Lab is { } lab ? TypedResults.Ok(ToResource(lab)) : found.Problem!;
    }

    public static async Task<Results<Created<LabResource>, Ok<LabResource>, ProblemHttpResult, ValidationProblem>> PutLabAsync(
        string subscriptionId, string resourceGroupName, string labName, CreateLabRequest request, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!TryParseLab(subscriptionId, resourceGroupName, labName, out var id, out var invalid))
        {
            return invalid;
        }
        var location = request.Location?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(location) || location.Length > 64 || !location.All(char.IsAsciiLetterOrDigit))
        {
            return Problems.Invalid("location", "A location is 1 to 64 letters and digits, such as 'westeurope'.");
        }
        if (SettingsProblem(request.Properties) is { } settingsProblem)
        {
            return settingsProblem;
        }
        var me = principal.ObjectId();
        var decision = await db.CheckAsync(me, id, Right.Write, ct);
        if (decision != AccessDecision.Allowed)
        {
            return Problems.Denied(decision, "The lab", Right.Write);
        }
        var groupId = ResourceId.ForResourceGroup(id.SubscriptionId!.Value, id.ResourceGroup!);
        if (await db.ResourceGroups.FindGroupAsync(groupId, ct) is not { } group)
        {
            return Problems.NotFound("The resource group");
        }
        var now = clock.GetUtcNow();
        var existing = await db.Labs.FirstOrDefaultAsync(LabIs(id), ct);
        if (existing is not null)
        {
            existing.Location = location;
            Apply(existing, request.Properties, now);
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(ToResource(existing));
        }
        var lab = new Lab
        {
            Id = Guid.NewGuid(),
            SubscriptionId = group.SubscriptionId,
            ResourceGroup = group.Name,
            ResourceGroupKey = group.NameKey,
            Name = id.Name!,
            NameKey = id.Name!.ToLowerInvariant(),
            Location = location,
            CreatedAt = now,
            TimeZoneId = "UTC",
            ScopeKey = id.Key,
        };
        Apply(lab, request.Properties, now);
        db.Labs.Add(lab);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created(lab.ResourceId.Value, ToResource(lab));
    }

    public static async Task<Results<Ok<LabResource>, ProblemHttpResult, ValidationProblem>> PatchLabAsync(
        string subscriptionId, string resourceGroupName, string labName, LabSettings settings, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        if (SettingsProblem(settings) is { } settingsProblem)
        {
            return settingsProblem;
        }
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, principal.ObjectId(), Right.Write, ct, tracking: true);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        Apply(lab, settings, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResource(lab));
    }

    /// Deleting a lab deletes its VMs, disks, costs and exports for good (as deleting an Azure lab does).
    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteLabAsync(
        string subscriptionId, string resourceGroupName, string labName, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, principal.ObjectId(), Right.Delete, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        await LabContent.DeleteLabAsync(db, blobs, lab, ct);
        return TypedResults.NoContent();
    }

    internal static ValidationProblem? SettingsProblem(LabSettings? settings)
    {
        if (settings is null)
        {
            return null;
        }
        if (!string.IsNullOrEmpty(settings.NotificationEmail) && EmailProblem(settings.NotificationEmail) is { } email)
        {
            return Problems.Invalid("notificationEmail", email);
        }
        if (settings.TimeZoneId is { } zone && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
        {
            return Problems.Invalid("timeZoneId", "timeZoneId is not a known IANA time zone, such as 'Europe/Paris' or 'UTC'.");
        }
        if (settings.AnonymizeAfterDays is < 0 or > 3650)
        {
            return Problems.Invalid("anonymizeAfterDays", "anonymizeAfterDays is between 0 and 3650.");
        }
        if (!string.IsNullOrEmpty(settings.ShutdownTime) && !TryParseTime(settings.ShutdownTime, out _))
        {
            return Problems.Invalid("shutdownTime", "shutdownTime is a time of day as HH:mm, e.g. 19:00.");
        }
        if (settings.ShutdownNoticeMinutes is < 0 or > 1440)
        {
            return Problems.Invalid("shutdownNoticeMinutes", "shutdownNoticeMinutes is between 0 and 1440.");
        }
        if (settings.Pricing is { } pricing && LabPrices.Problem(pricing.VirtualMachinePerDay, pricing.OtherVirtualMachinePerDay, pricing.DiskPerGiBMonth) is { } pricingProblem)
        {
            return Problems.Invalid("pricing", pricingProblem);
        }
        return null;
    }

    /// The problem with an email address, or null. The message never repeats the address.
    internal static string? EmailProblem(string email)
        => email.Length <= 256 && MailAddress.TryCreate(email.Trim(), out var parsed) && parsed.Address == email.Trim() && parsed.DisplayName.Length == 0
            ? null
            : "The notification email is not a valid email address.";

    internal static bool TryParseTime(string value, out TimeOnly time)
        => TimeOnly.TryParseExact(value, ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    private static void Apply(Lab lab, LabSettings? settings, DateTimeOffset now)
    {
        if (settings is null)
        {
            return;
        }
        if (settings.NotificationEmail is { } email)
        {
            NotificationEmails.Change(lab, email.Trim(), now);
        }
        if (settings.TimeZoneId is { } zone)
        {
            lab.TimeZoneId = zone;
        }
        if (settings.AnonymizeAfterDays is { } days)
        {
            lab.AnonymizeAfterDays = days;
        }
        if (settings.ShutdownTime is { } time)
        {
            lab.ShutdownTime = time.Length == 0 ? null : TimeOnly.ParseExact(time.Length == 5 ? time : time[..5], "HH:mm", CultureInfo.InvariantCulture);
        }
        if (settings.ShutdownNoticeMinutes is { } minutes)
        {
            lab.ShutdownNoticeMinutes = minutes;
        }
        if (settings.Pricing is { } pricing)
        {
            lab.PricesJson = LabPrices.For(lab.PricesJson).With(pricing.VirtualMachinePerDay, pricing.OtherVirtualMachinePerDay, pricing.DiskPerGiBMonth).ToStored();
        }
    }

    internal static bool TryParseLab(string subscriptionId, string resourceGroupName, string labName, out ResourceId id, out ValidationProblem problem)
    {
        id = ResourceId.Root;
        if (!ResourceEndpoints.TryParseGroup(subscriptionId, resourceGroupName, out var group, out problem))
        {
            return false;
        }
        if (ResourceId.NameProblem(labName, "lab name") is { } nameProblem)
        {
            problem = Problems.Invalid("labName", nameProblem);
            return false;
        }
        id = group.Child(Lab.ProviderNamespace, "labs", labName);
        return true;
    }

    internal static System.Linq.Expressions.Expression<Func<Lab, bool>> LabIs(ResourceId id)
    {
        var sub = id.SubscriptionId!.Value;
        var group = id.ResourceGroup!.ToLowerInvariant();
        var name = id.Name!.ToLowerInvariant();
        return l => l.SubscriptionId == sub && l.ResourceGroupKey == group && l.NameKey == name;
    }

    /// The lab the route names, when the caller holds <paramref name="right"/> on it; otherwise the problem (404 when it cannot see it).
    internal static async Task<LabLookup> FindLabAsync(this LetheDb db, string subscriptionId, string resourceGroupName, string labName, Guid me, Right right, CancellationToken ct, bool tracking = false)
    {
        if (!TryParseLab(subscriptionId, resourceGroupName, labName, out var id, out var invalid))
        {
            return new(null, null, invalid);
        }
        var decision = await db.CheckAsync(me, id, right, ct);
        if (decision == AccessDecision.NotFound)
        {
            return new(null, Problems.NotFound("The lab"), null);
        }
        var query = tracking ? db.Labs : db.Labs.AsNoTracking();
        var lab = await query.FirstOrDefaultAsync(LabIs(id), ct);
        if (lab is null)
        {
            return new(null, Problems.NotFound("The lab"), null);
        }
        return decision == AccessDecision.Allowed ? new(lab, null, null) : new(null, Problems.Forbidden(right.ToString()), null);
    }

    internal static LabResource ToResource(Lab l)
    {
        var prices = LabPrices.For(l.PricesJson);
        return new(
            l.ResourceId.Value, l.Name, Lab.ResourceType, l.Location,
            new LabProperties(l.Id, l.CreatedAt, l.NotificationEmail, l.TimeZoneId, l.AnonymizeAfterDays, l.ShutdownTime?.ToString("HH:mm", CultureInfo.InvariantCulture), l.ShutdownNoticeMinutes,
                Pricing: new LabPricing(
                    new SortedDictionary<string, decimal>(prices.VmPerDay.ToDictionary(), StringComparer.Ordinal),
                    prices.OtherVmPerDay,
                    new SortedDictionary<string, decimal>(prices.DiskPerGiBMonth.ToDictionary(), StringComparer.Ordinal))));
    }
}

/// A lab the caller may act on, or why not: a bad route value (400) or a denial (403/404).
internal readonly record struct LabLookup(Lab? Lab, ProblemHttpResult? Problem, ValidationProblem? Invalid);
