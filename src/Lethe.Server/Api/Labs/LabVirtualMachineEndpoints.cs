using System.Globalization;
using System.Security.Claims;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Labs;

/// Lab VMs: create (claimable or owned), claim, change email and schedule, delete (the row stays, Inactive).
public static class LabVirtualMachineEndpoints
{
    public const string VmType = "Microsoft.DevTestLab/labs/virtualmachines";

    internal static void Map(RouteGroupBuilder lab)
    {
        lab.MapGet("/virtualmachines", ListAsync).WithName("ListLabVirtualMachines");
        lab.MapGet("/virtualmachines/{vmName}", GetAsync).WithName("GetLabVirtualMachine");
        lab.MapPut("/virtualmachines/{vmName}", CreateAsync).WithName("CreateLabVirtualMachine");
        lab.MapPatch("/virtualmachines/{vmName}", UpdateAsync).WithName("UpdateLabVirtualMachine");
        lab.MapPost("/virtualmachines/{vmName}/claim", ClaimAsync).WithName("ClaimLabVirtualMachine");
        lab.MapDelete("/virtualmachines/{vmName}", DeleteAsync).WithName("DeleteLabVirtualMachine");
    }

    public static async Task<Results<Ok<ArmList<LabVirtualMachineResource>>, ProblemHttpResult, ValidationProblem>> ListAsync(
        string subscriptionId, string resourceGroupName, string labName, ClaimsPrincipal principal, LetheDb db, HttpRequest request,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, bool? includeDeleted, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } problem)
        {
            return problem;
        }
        var me = principal.ObjectId();
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, me, Right.Read, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        var admin = await db.IsLabAdminAsync(me, lab, ct);
        var query = db.VisibleVirtualMachines(lab.Id, me, admin).AsNoTracking();
        if (includeDeleted != true)
        {
            query = query.Where(v => v.DeletedAt == null);
        }
        var page = await Paging.PageAsync(query.OrderBy(v => v.NameKey).ThenBy(v => v.CreatedAt), request, top, skipToken, v => ToResource(lab, v), ct);
        return TypedResults.Ok(page);
    }

    public static async Task<Results<Ok<LabVirtualMachineResource>, ProblemHttpResult, ValidationProblem>> GetAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var found = await FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, principal.ObjectId(), ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        return found.Vm is { } vm ? TypedResults.Ok(ToResource(found.Lab!, vm)) : found.Problem!;
    }

    /// Lab users create VMs they own; only lab admins create claimable ones (no owner).
    public static async Task<Results<Created<LabVirtualMachineResource>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, CreateLabVirtualMachineRequest request,
        ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ResourceId.NameProblem(vmName, "virtual machine name") is { } nameProblem)
        {
            return Problems.Invalid("vmName", nameProblem);
        }
        if (CreateProblem(request.Properties) is { } bad)
        {
            return bad;
        }
        var me = principal.ObjectId();
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, me, Right.UseLab, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        var p = request.Properties;
        if (p.AllowClaim && !await db.IsLabAdminAsync(me, lab, ct))
        {
            return Problems.Forbidden("creating claimable virtual machines (lab admins only)");
        }
        var key = vmName.ToLowerInvariant();
        if (await db.LabVirtualMachines.AnyAsync(v => v.LabId == lab.Id && v.NameKey == key && v.DeletedAt == null, ct))
        {
            return Problems.Conflict("A virtual machine of that name exists in the lab.");
        }
        var now = clock.GetUtcNow();
        var vm = new LabVirtualMachine
        {
            Id = Guid.NewGuid(),
            LabId = lab.Id,
            Name = vmName,
            NameKey = key,
            CreatedAt = now,
            OwnerObjectId = p.AllowClaim ? null : me,
            PricingTier = p.PricingTier.Trim(),
            Claimable = p.AllowClaim,
            EnvironmentId = string.IsNullOrWhiteSpace(p.EnvironmentId) ? null : p.EnvironmentId.Trim(),
            ExpirationDate = p.ExpirationDate?.ToUniversalTime(),
            ImagePublisher = p.GalleryImageReference?.Publisher,
            ImageOffer = p.GalleryImageReference?.Offer,
            ImageSku = p.GalleryImageReference?.Sku,
            ImageOsType = p.GalleryImageReference?.OsType,
            ImageVersion = p.GalleryImageReference?.Version,
            CustomImageId = string.IsNullOrWhiteSpace(p.CustomImageId) ? null : p.CustomImageId.Trim(),
            NotificationEmail = string.IsNullOrWhiteSpace(p.NotificationEmail) ? null : Lethe.Privacy.SubjectKeys.NormalizeEmail(p.NotificationEmail),
            ShutdownTime = string.IsNullOrEmpty(p.ShutdownTime) ? null : ParseTime(p.ShutdownTime),
        };
        db.LabVirtualMachines.Add(vm);
        await db.SaveChangesAsync(ct);
        var resource = ToResource(lab, vm);
        return TypedResults.Created(resource.Id, resource);
    }

    public static async Task<Results<Ok<LabVirtualMachineResource>, ProblemHttpResult, ValidationProblem>> UpdateAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, UpdateLabVirtualMachineRequest request,
        ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.IsNullOrEmpty(request.NotificationEmail) && LabEndpoints.EmailProblem(request.NotificationEmail) is { } email)
        {
            return Problems.Invalid("notificationEmail", email);
        }
        if (!string.IsNullOrEmpty(request.ShutdownTime) && !LabEndpoints.TryParseTime(request.ShutdownTime, out _))
        {
            return Problems.Invalid("shutdownTime", "shutdownTime is a time of day as HH:mm, e.g. 19:00.");
        }
        var found = await FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, principal.ObjectId(), ct, tracking: true, act: true);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Vm is not { } vm)
        {
            return found.Problem!;
        }
        if (request.NotificationEmail is { } address)
        {
            NotificationEmails.Change(vm, address.Trim(), clock.GetUtcNow());
        }
        if (request.ShutdownTime is { } time)
        {
            vm.ShutdownTime = time.Length == 0 ? null : ParseTime(time);
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResource(found.Lab!, vm));
    }

    /// A lab user takes a claimable VM: it becomes theirs and is no longer claimable. One claim wins.
    public static async Task<Results<Ok<LabVirtualMachineResource>, ProblemHttpResult, ValidationProblem>> ClaimAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var me = principal.ObjectId();
        var found = await FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, me, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Vm is not { } vm)
        {
            return found.Problem!;
        }
        if (await db.CheckAsync(me, found.Lab!.ResourceId, Right.UseLab, ct) != AccessDecision.Allowed)
        {
            return Problems.Forbidden(nameof(Right.UseLab));
        }
        // The condition makes concurrent claims safe: only one update finds the VM still claimable.
        var claimed = await db.LabVirtualMachines
            .Where(v => v.Id == vm.Id && v.Claimable && v.DeletedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(v => v.Claimable, false).SetProperty(v => v.OwnerObjectId, me), ct);
        if (claimed == 0)
        {
            return Problems.Conflict("The virtual machine is not claimable.");
        }
        var updated = await db.LabVirtualMachines.AsNoTracking().FirstAsync(v => v.Id == vm.Id, ct);
        return TypedResults.Ok(ToResource(found.Lab!, updated));
    }

    /// The VM stays as a record (DeletedDate, Inactive) for the usage export and the cost reports;
    /// its disks are detached. Its personal data is anonymized after the lab's period.
    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(
        string subscriptionId, string resourceGroupName, string labName, string vmName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        var found = await FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, principal.ObjectId(), ct, tracking: true, act: true);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Vm is not { } vm)
        {
            return found.Problem!;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        vm.DeletedAt = clock.GetUtcNow();
        vm.Running = false;
        vm.Claimable = false;
        await db.SaveChangesAsync(ct);
        await db.LabDisks.Where(d => d.LeasedByVmId == vm.Id).ExecuteUpdateAsync(set => set.SetProperty(d => d.LeasedByVmId, (Guid?)null), ct);
        await transaction.CommitAsync(ct);
        // Rights at the VM go with it, after its mark (decision 0071): a VM made again under its name starts without them.
        await LiveScope.RemoveAssignmentsAsync(db, found.Lab!.ScopeKey + "/virtualmachines/" + vm.NameKey, CancellationToken.None);
        return TypedResults.NoContent();
    }

    internal static ValidationProblem? CreateProblem(LabVirtualMachineCreateProperties? p)
    {
        if (p is null)
        {
            return Problems.Invalid("properties", "properties are required.");
        }
        if (string.IsNullOrWhiteSpace(p.PricingTier) || p.PricingTier.Length > 64 || p.PricingTier.Any(char.IsControl))
        {
            return Problems.Invalid("properties.pricingTier", "pricingTier is 1 to 64 characters, such as 'Standard_B2s'.");
        }
        var gallery = p.GalleryImageReference;
        var custom = !string.IsNullOrWhiteSpace(p.CustomImageId);
        if ((gallery is null) == !custom)
        {
            return Problems.Invalid("properties.galleryImageReference", "A virtual machine is made from either a galleryImageReference or a customImageId, exactly one of them.");
        }
        if (gallery is not null)
        {
            var parts = new[] { gallery.Publisher, gallery.Offer, gallery.Sku, gallery.OsType, gallery.Version };
            if (parts.Any(x => string.IsNullOrWhiteSpace(x) || x.Length > 128 || x.Any(char.IsControl)))
            {
                return Problems.Invalid("properties.galleryImageReference", "galleryImageReference needs publisher, offer, sku, osType and version, each 1 to 128 characters.");
            }
            if (gallery.OsType is not ("Windows" or "Linux"))
            {
                return Problems.Invalid("properties.galleryImageReference.osType", "osType is 'Windows' or 'Linux'.");
            }
        }
        if (custom && !ResourceId.TryParse(p.CustomImageId, out _, out var customProblem))
        {
            return Problems.Invalid("properties.customImageId", "customImageId is a resource ID: " + customProblem);
        }
        if (!string.IsNullOrWhiteSpace(p.EnvironmentId) && !ResourceId.TryParse(p.EnvironmentId, out _, out var envProblem))
        {
            return Problems.Invalid("properties.environmentId", "environmentId is a resource ID: " + envProblem);
        }
        if (!string.IsNullOrEmpty(p.NotificationEmail) && LabEndpoints.EmailProblem(p.NotificationEmail) is { } email)
        {
            return Problems.Invalid("properties.notificationEmail", email);
        }
        if (!string.IsNullOrEmpty(p.ShutdownTime) && !LabEndpoints.TryParseTime(p.ShutdownTime, out _))
        {
            return Problems.Invalid("properties.shutdownTime", "shutdownTime is a time of day as HH:mm, e.g. 19:00.");
        }
        return null;
    }

    private static TimeOnly ParseTime(string value)
    {
        // Validated before: a time that does not parse never reaches here.
        return LabEndpoints.TryParseTime(value, out var time) ? new TimeOnly(time.Hour, time.Minute) : throw new FormatException("shutdownTime is not HH:mm.");
    }

    internal readonly record struct VmLookup(Lab? Lab, LabVirtualMachine? Vm, ProblemHttpResult? Problem, ValidationProblem? Invalid);

    /// A live VM the caller may see (lab admin, its owner, or anyone in the lab for a claimable one).
    /// With <paramref name="act"/>, the caller must be a lab admin or the owner.
    internal static async Task<VmLookup> FindVmAsync(LetheDb db, string subscriptionId, string resourceGroupName, string labName, string vmName, Guid me, CancellationToken ct, bool tracking = false, bool act = false)
    {
        if (ResourceId.NameProblem(vmName, "virtual machine name") is { } nameProblem)
        {
            return new(null, null, null, Problems.Invalid("vmName", nameProblem));
        }
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, me, Right.Read, ct);
        if (found.Lab is not { } lab)
        {
            return new(null, null, found.Problem, found.Invalid);
        }
        var admin = await db.IsLabAdminAsync(me, lab, ct);
        var key = vmName.ToLowerInvariant();
        var query = db.VisibleVirtualMachines(lab.Id, me, admin).Where(v => v.NameKey == key && v.DeletedAt == null);
        var vm = await (tracking ? query : query.AsNoTracking()).FirstOrDefaultAsync(ct);
        if (vm is null)
        {
            return new(lab, null, Problems.NotFound("The virtual machine"), null);
        }
        if (act && !admin && vm.OwnerObjectId != me)
        {
            return new(lab, null, Problems.Forbidden("acting on another user's virtual machine"), null);
        }
        return new(lab, vm, null, null);
    }

    internal static LabVirtualMachineResource ToResource(Lab lab, LabVirtualMachine v)
    {
        var gallery = v.ImagePublisher is null ? null : new GalleryImageReferenceContract(v.ImagePublisher, v.ImageOffer ?? "", v.ImageSku ?? "", v.ImageOsType ?? "", v.ImageVersion ?? "");
        return new(
            lab.ResourceId.Child("virtualmachines", v.Name).Value, v.Name, VmType,
            new LabVirtualMachineProperties(
                v.Id, v.CreatedAt, v.DeletedAt, v.DeletedAt is null ? LabUsageRows.Active : LabUsageRows.Inactive, v.OwnerObjectId, v.PricingTier,
                v.Claimable, v.EnvironmentId, v.ExpirationDate, gallery, v.CustomImageId, LabNames.ComputeResourceId(lab, v.Name),
                v.NotificationEmail, v.ShutdownTime?.ToString("HH:mm", CultureInfo.InvariantCulture), v.Running ? "Running" : "Stopped"));
    }
}
