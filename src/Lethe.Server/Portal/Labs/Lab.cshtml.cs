using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Server.Api.Labs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Labs;

/// One lab: its VMs and disks as the signed-in user sees them, costs as charts, settings, the usage export.
/// Actions go through the same handlers as the API, so the rules are the same.
public sealed class LabModel(LetheDb db, IBlobStore blobs, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid SubscriptionId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string ResourceGroup { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string LabName { get; set; } = "";

    public Lab Lab { get; private set; } = null!;
    public bool IsAdmin { get; private set; }
    public IReadOnlyList<LabVirtualMachineResource> Vms { get; private set; } = [];
    public IReadOnlyList<LabDiskResource> Disks { get; private set; } = [];
    public LabCostReport Costs { get; private set; } = null!;
    public string TrendSvg { get; private set; } = "";
    public string ByResourceSvg { get; private set; } = "";
    public IReadOnlyList<LabUsageExportItem> Exports { get; private set; } = [];

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string Sub => SubscriptionId.ToString("D");

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var found = await db.FindLabAsync(Sub, ResourceGroup, LabName, User.ObjectId(), Right.Read, ct);
        if (found.Lab is not { } lab)
        {
            return NotFound();
        }
        Lab = lab;
        var me = User.ObjectId();
        IsAdmin = await db.IsLabAdminAsync(me, lab, ct);
        Vms = (await db.VisibleVirtualMachines(lab.Id, me, IsAdmin).AsNoTracking().Where(v => v.DeletedAt == null).OrderBy(v => v.NameKey).ToListAsync(ct))
            .Select(v => LabVirtualMachineEndpoints.ToResource(lab, v)).ToList();
        if (await LabDiskEndpoints.ListAsync(Sub, ResourceGroup, LabName, User, db, Request, null, null, false, ct) is { Result: Ok<ArmList<LabDiskResource>> disks })
        {
            Disks = disks.Value!.Value;
        }
        Costs = LabUsageEndpoints.ToContract(await LabCosts.ReportAsync(db, lab.Id, IsAdmin ? null : me, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), ct));
        TrendSvg = LabCharts.Trend(Costs);
        ByResourceSvg = LabCharts.ByResource(Costs);
        if (IsAdmin && await LabUsageEndpoints.ListExportsAsync(Sub, ResourceGroup, LabName, User, db, blobs, ct) is { Result: Ok<ArmList<LabUsageExportItem>> exports })
        {
            Exports = exports.Value!.Value;
        }
        return Page();
    }

    public async Task<IActionResult> OnPostClaimAsync(string vm, CancellationToken ct)
        => Done(await LabVirtualMachineEndpoints.ClaimAsync(Sub, ResourceGroup, LabName, vm, User, db, ct), $"You claimed {vm}.");

    public async Task<IActionResult> OnPostDeleteVmAsync(string vm, bool confirm, CancellationToken ct)
    {
        if (!confirm)
        {
            Error = $"Tick the confirmation to delete {vm}.";
            return RedirectToPage();
        }
        return Done(await LabVirtualMachineEndpoints.DeleteAsync(Sub, ResourceGroup, LabName, vm, User, db, clock, ct), $"Deleted {vm}. Its record stays for the cost reports; your personal data in it is anonymized after the lab's period.");
    }

    public async Task<IActionResult> OnPostCreateVmAsync(string name, string pricingTier, string image, bool claimable, CancellationToken ct)
    {
        var parts = (image ?? "").Split(':');
        if (parts.Length != 5)
        {
            Error = "Choose an image.";
            return RedirectToPage();
        }
        var request = new CreateLabVirtualMachineRequest(new LabVirtualMachineCreateProperties(pricingTier ?? "", new GalleryImageReferenceContract(parts[0], parts[1], parts[2], parts[3], parts[4]), AllowClaim: claimable));
        return Done(await LabVirtualMachineEndpoints.CreateAsync(Sub, ResourceGroup, LabName, name ?? "", request, User, db, clock, ct), $"Created {name}.");
    }

    public async Task<IActionResult> OnPostVmSettingsAsync(string vm, string? notificationEmail, string? shutdownTime, CancellationToken ct)
        => Done(await LabVirtualMachineEndpoints.UpdateAsync(Sub, ResourceGroup, LabName, vm, new UpdateLabVirtualMachineRequest(notificationEmail?.Trim() ?? "", shutdownTime?.Trim() ?? ""), User, db, clock, ct), $"Saved the settings of {vm}.");

    public async Task<IActionResult> OnPostSettingsAsync(string? notificationEmail, string? shutdownTime, int shutdownNoticeMinutes, string timeZoneId, int anonymizeAfterDays, CancellationToken ct)
        => Done(await LabEndpoints.PatchLabAsync(Sub, ResourceGroup, LabName, new LabSettings(notificationEmail?.Trim() ?? "", timeZoneId, anonymizeAfterDays, shutdownTime?.Trim() ?? "", shutdownNoticeMinutes), User, db, clock, ct), "Saved the lab's settings.");

    public async Task<IActionResult> OnPostExportAsync(string? since, CancellationToken ct)
    {
        var result = await LabUsageEndpoints.ExportAsync(Sub, ResourceGroup, LabName, new ExportLabResourceUsageRequest(null, since), User, db, clock, HttpContext, ct);
        return Done(result, "The export is running; its files appear below when it is done (reload the page).");
    }

    public async Task<IActionResult> OnGetDownloadAsync(string folder, string name, CancellationToken ct)
    {
        var result = await LabUsageEndpoints.DownloadAsync(Sub, ResourceGroup, LabName, folder, name, User, db, blobs, ct);
        return result.Result is FileStreamHttpResult file ? File(file.FileStream, file.ContentType, file.FileDownloadName) : NotFound();
    }

    private RedirectToPageResult Done(IResult result, string success)
    {
        (Message, Error) = HandlerOutcome.Of(result, success);
        return RedirectToPage();
    }
}
