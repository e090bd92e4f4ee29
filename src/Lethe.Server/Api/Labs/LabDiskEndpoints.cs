using System.Security.Claims;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Labs;

/// Lab data disks: create, attach to a VM, detach, delete (the row stays, Inactive). Lab users see and
/// change their own disks; lab admins all of them.
public static class LabDiskEndpoints
{
    public const string DiskType = "Microsoft.DevTestLab/labs/disks";

    internal static void Map(RouteGroupBuilder lab)
    {
        lab.MapGet("/disks", ListAsync).WithName("ListLabDisks");
        lab.MapPut("/disks/{diskName}", CreateAsync).WithName("CreateLabDisk");
        lab.MapPost("/disks/{diskName}/attach", AttachAsync).WithName("AttachLabDisk");
        lab.MapPost("/disks/{diskName}/detach", DetachAsync).WithName("DetachLabDisk");
        lab.MapDelete("/disks/{diskName}", DeleteAsync).WithName("DeleteLabDisk");
    }

    public static async Task<Results<Ok<ArmList<LabDiskResource>>, ProblemHttpResult, ValidationProblem>> ListAsync(
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
        var disks = db.VisibleDisks(lab.Id, me, admin).AsNoTracking();
        if (includeDeleted != true)
        {
            disks = disks.Where(d => d.DeletedAt == null);
        }
        var query = disks.OrderBy(d => d.NameKey).ThenBy(d => d.CreatedAt)
            .Select(d => new DiskWithVm(d, db.LabVirtualMachines.Where(v => v.Id == d.LeasedByVmId).Select(v => v.Name).FirstOrDefault()));
        return TypedResults.Ok(await Paging.PageAsync(query, request, top, skipToken, x => ToResource(lab, x.Disk, x.VmName), ct));
    }

    public static async Task<Results<Created<LabDiskResource>, ProblemHttpResult, ValidationProblem>> CreateAsync(
        string subscriptionId, string resourceGroupName, string labName, string diskName, CreateLabDiskRequest request,
        ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (ResourceId.NameProblem(diskName, "disk name") is { } nameProblem)
        {
            return Problems.Invalid("diskName", nameProblem);
        }
        var p = request.Properties;
        if (p is null || p.DiskSizeGiB is < 1 or > 32767)
        {
            return Problems.Invalid("properties.diskSizeGiB", "diskSizeGiB is between 1 and 32767.");
        }
        if (ParseType(p.DiskType) is not { } type)
        {
            return Problems.Invalid("properties.diskType", "diskType is 'Standard' (0) or 'Premium' (1).");
        }
        if (p.DiskBlobName is { } blob && (blob.Length is 0 or > 1024 || blob.Any(char.IsControl)))
        {
            return Problems.Invalid("properties.diskBlobName", "diskBlobName is 1 to 1024 characters.");
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
        var key = diskName.ToLowerInvariant();
        if (await db.LabDisks.AnyAsync(d => d.LabId == lab.Id && d.NameKey == key && d.DeletedAt == null, ct))
        {
            return Problems.Conflict("A disk of that name exists in the lab.");
        }
        var id = Guid.NewGuid();
        var disk = new LabDisk
        {
            Id = id,
            LabId = lab.Id,
            Name = diskName,
            NameKey = key,
            CreatedAt = clock.GetUtcNow(),
            OwnerObjectId = me,
            SizeGb = p.DiskSizeGiB,
            DiskType = type,
            BlobName = p.DiskBlobName ?? $"{diskName}-{id:N}.vhd",
        };
        db.LabDisks.Add(disk);
        await db.SaveChangesAsync(ct);
        var resource = ToResource(lab, disk, null);
        return TypedResults.Created(resource.Id, resource);
    }

    public static async Task<Results<Ok<LabDiskResource>, ProblemHttpResult, ValidationProblem>> AttachAsync(
        string subscriptionId, string resourceGroupName, string labName, string diskName, AttachDiskRequest request,
        ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var me = principal.ObjectId();
        var found = await FindDiskAsync(db, subscriptionId, resourceGroupName, labName, diskName, me, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Disk is not { } disk)
        {
            return found.Problem!;
        }
        // The VM is named by its name or its full resource ID (Azure's leasedByLabVmId).
        var vmName = request.LeasedByLabVmId?.Trim() ?? "";
        if (vmName.StartsWith('/'))
        {
            if (!ResourceId.TryParse(vmName, out var vmId, out _) || vmId.Parent != found.Lab!.ResourceId)
            {
                return Problems.Invalid("leasedByLabVmId", "leasedByLabVmId is a virtual machine of this lab.");
            }
            vmName = vmId.Name!;
        }
        var vm = await LabVirtualMachineEndpoints.FindVmAsync(db, subscriptionId, resourceGroupName, labName, vmName, me, ct, act: true);
        if (vm.Invalid is not null || vm.Vm is null)
        {
            return Problems.Invalid("leasedByLabVmId", "leasedByLabVmId is not a virtual machine of this lab that you may use.");
        }
        if (disk.LeasedByVmId is not null && disk.LeasedByVmId != vm.Vm.Id)
        {
            return Problems.Conflict("The disk is attached to another virtual machine; detach it first.");
        }
        disk.LeasedByVmId = vm.Vm.Id;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResource(found.Lab!, disk, vm.Vm.Name));
    }

    public static async Task<Results<Ok<LabDiskResource>, ProblemHttpResult, ValidationProblem>> DetachAsync(
        string subscriptionId, string resourceGroupName, string labName, string diskName, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var found = await FindDiskAsync(db, subscriptionId, resourceGroupName, labName, diskName, principal.ObjectId(), ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Disk is not { } disk)
        {
            return found.Problem!;
        }
        disk.LeasedByVmId = null;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResource(found.Lab!, disk, null));
    }

    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DeleteAsync(
        string subscriptionId, string resourceGroupName, string labName, string diskName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
        var found = await FindDiskAsync(db, subscriptionId, resourceGroupName, labName, diskName, principal.ObjectId(), ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Disk is not { } disk)
        {
            return found.Problem!;
        }
        if (disk.LeasedByVmId is not null)
        {
            return Problems.Conflict("The disk is attached to a virtual machine; detach it first.");
        }
        disk.DeletedAt = clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        // Rights at the disk go with it, after its mark (decision 0071).
        await LiveScope.RemoveAssignmentsAsync(db, found.Lab!.ScopeKey + "/disks/" + disk.NameKey, CancellationToken.None);
        return TypedResults.NoContent();
    }

    private static int? ParseType(string? type) => type switch
    {
        null or "Standard" or "0" => 0,
        "Premium" or "1" => 1,
        _ => null,
    };

    private sealed record DiskWithVm(LabDisk Disk, string? VmName);

    private readonly record struct DiskLookup(Lab? Lab, LabDisk? Disk, ProblemHttpResult? Problem, ValidationProblem? Invalid);

    private static async Task<DiskLookup> FindDiskAsync(LetheDb db, string subscriptionId, string resourceGroupName, string labName, string diskName, Guid me, CancellationToken ct)
    {
        if (ResourceId.NameProblem(diskName, "disk name") is { } nameProblem)
        {
            return new(null, null, null, Problems.Invalid("diskName", nameProblem));
        }
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, me, Right.Read, ct);
        if (found.Lab is not { } lab)
        {
            return new(null, null, found.Problem, found.Invalid);
        }
        var admin = await db.IsLabAdminAsync(me, lab, ct);
        var key = diskName.ToLowerInvariant();
        var disk = await db.LabDisks.FirstOrDefaultAsync(d => d.LabId == lab.Id && d.NameKey == key && d.DeletedAt == null && (admin || d.OwnerObjectId == me), ct);
        if (disk is null)
        {
            return new(lab, null, Problems.NotFound("The disk"), null);
        }
        if (!admin && await db.CheckAsync(me, lab.ResourceId, Right.UseLab, ct) != AccessDecision.Allowed)
        {
            return new(lab, null, Problems.Forbidden(nameof(Right.UseLab)), null);
        }
        return new(lab, disk, null, null);
    }

    private static LabDiskResource ToResource(Lab lab, LabDisk d, string? vmName) => new(
        lab.ResourceId.Child("disks", d.Name).Value, d.Name, DiskType,
        new LabDiskProperties(d.Id, d.CreatedAt, d.DeletedAt, d.DeletedAt is null ? LabUsageRows.Active : LabUsageRows.Inactive, d.OwnerObjectId,
            d.SizeGb, d.DiskType == 1 ? "Premium" : "Standard", d.BlobName, vmName is null ? null : lab.ResourceId.Child("virtualmachines", vmName).Value));
}
