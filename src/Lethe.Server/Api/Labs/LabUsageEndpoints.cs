using System.Security.Claims;
using Lethe.Blobs;
using Lethe.Blobs.Azure;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Lethe.Server.Api.Labs;

/// Seed 002's usage export (exportLabResourceUsage, also under Azure's REST name exportResourceUsage),
/// the exports kept in the lab's own storage, and the cost report.
public static class LabUsageEndpoints
{
    internal static void Map(RouteGroupBuilder lab)
    {
        lab.MapPost("/exportLabResourceUsage", ExportAsync).WithName("ExportLabResourceUsage");
        lab.MapPost("/exportResourceUsage", ExportAsync).WithName("ExportResourceUsage");
        lab.MapGet("/usageExports", ListExportsAsync).WithName("ListLabUsageExports");
        lab.MapGet("/usageExports/content", DownloadAsync).WithName("DownloadLabUsageExport");
        lab.MapGet("/costs", CostsAsync).WithName("GetLabCosts");
    }

    /// Lab admins only. Everything that can be checked is checked before the 202 (dates, SAS URI);
    /// storage errors while writing make the operation Failed with the storage error.
    public static async Task<Results<AcceptedAtRoute<OperationStatus>, ProblemHttpResult, ValidationProblem>> ExportAsync(
        string subscriptionId, string resourceGroupName, string labName, ExportLabResourceUsageRequest? request,
        ClaimsPrincipal principal, LetheDb db, TimeProvider clock, HttpContext context, CancellationToken ct)
    {
        var me = principal.ObjectId();
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, me, Right.Write, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        var now = clock.GetUtcNow();
        var zone = TimeZoneInfo.FindSystemTimeZoneById(lab.TimeZoneId);
        if (!ExportLabUsage.TryParseStart(request?.UsageStartDate, zone, now, out var start, out var dateProblem))
        {
            return Problems.Invalid("usageStartDate", dateProblem!);
        }
        var sas = string.IsNullOrWhiteSpace(request?.BlobStorageAbsoluteSasUri) ? null : request.BlobStorageAbsoluteSasUri.Trim();
        if (sas is not null && SasDestination.Problem(sas, now) is { } sasProblem)
        {
            return Problems.Invalid("blobStorageAbsoluteSasUri", sasProblem);
        }
        var job = await ExportLabUsage.EnqueueAsync(db, lab, start, now, sas, me, clock, ct);
        return OperationEndpoints.Accepted(context, job);
    }

    public static async Task<Results<Ok<ArmList<LabUsageExportItem>>, ProblemHttpResult, ValidationProblem>> ListExportsAsync(
        string subscriptionId, string resourceGroupName, string labName, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, principal.ObjectId(), Right.Write, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        var items = new List<LabUsageExportItem>();
        await foreach (var blob in blobs.ListAsync(ExportLabUsage.Container, LabContent.StoragePrefix(lab), ct))
        {
            var slash = blob.Name.LastIndexOf('/');
            items.Add(new LabUsageExportItem(blob.Name[..(slash + 1)], blob.Name[(slash + 1)..], blob.Length, blob.LastModified));
        }
        // Newest export first.
        items.Sort((a, b) => string.CompareOrdinal(b.Folder, a.Folder) is var c && c != 0 ? c : string.CompareOrdinal(b.Name, a.Name));
        return TypedResults.Ok(new ArmList<LabUsageExportItem>(items, null));
    }

    public static async Task<Results<FileStreamHttpResult, ProblemHttpResult, ValidationProblem>> DownloadAsync(
        string subscriptionId, string resourceGroupName, string labName, string folder, string name, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var found = await db.FindLabAsync(subscriptionId, resourceGroupName, labName, principal.ObjectId(), Right.Write, ct);
        if (found.Invalid is { } invalid)
        {
            return invalid;
        }
        if (found.Lab is not { } lab)
        {
            return found.Problem!;
        }
        if (name is not (ExportLabUsage.VirtualMachinesFile or ExportLabUsage.DisksFile))
        {
            return Problems.Invalid("name", "name is virtualmachines.csv or disks.csv.");
        }
        if (folder is null || !folder.StartsWith(LabContent.StoragePrefix(lab), StringComparison.Ordinal) || !folder.EndsWith('/') || folder.Contains("..", StringComparison.Ordinal))
        {
            return Problems.Invalid("folder", "folder is an export folder of this lab, as the list of exports gives it.");
        }
        try
        {
            var stream = await blobs.OpenReadAsync(ExportLabUsage.Container, folder + name, ct);
            return TypedResults.File(stream, "text/csv", name);
        }
        catch (BlobNotFoundException)
        {
            return Problems.NotFound("The export file");
        }
        catch (BlobNameException)
        {
            return Problems.Invalid("folder", "folder is an export folder of this lab, as the list of exports gives it.");
        }
    }

    /// Lab admins see every resource's cost; lab users their own resources'.
    public static async Task<Results<Ok<LabCostReport>, ProblemHttpResult, ValidationProblem>> CostsAsync(
        string subscriptionId, string resourceGroupName, string labName, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
    {
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
        var report = await LabCosts.ReportAsync(db, lab.Id, admin ? null : me, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), ct);
        return TypedResults.Ok(ToContract(report));
    }

    internal static LabCostReport ToContract(CostReport r) => new(
        "USD",
        r.Month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture),
        r.MonthToDateCents / 100m,
        r.EstimatedMonthCents / 100m,
        r.Trend.Select(t => new LabMonthTrend(t.Month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), t.TotalCents / 100m, t.CumulativeCentsByDay.Select(c => c / 100m).ToList())).ToList(),
        r.ByResource.Select(x => new LabResourceCost(x.ResourceUId, x.ResourceName, x.OwnerObjectId, x.Cents / 100m)).ToList());
}
