using Lethe.Blobs;
using Lethe.Client;
using Lethe.Labs;
using Lethe.Resources;
using Lethe.Server.Api;
using Lethe.Server.Api.Labs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Labs;

/// Seed 002's Personal data page: what the lab holds about the signed-in user (email, object ID), and
/// Request export, which writes the lab's usage CSVs to the lab's own storage. Lab users may request it
/// (as in the seed: the lab admin then filters and shares the files); lab admins download the files here.
public sealed class PersonalDataModel(LetheDb db, IBlobStore blobs, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid SubscriptionId { get; set; }

    [BindProperty(SupportsGet = true)]
    public string ResourceGroup { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string LabName { get; set; } = "";

    public Lab Lab { get; private set; } = null!;
    public bool IsAdmin { get; private set; }
    public string? MyEmail { get; private set; }
    public bool LabUsesMyEmail { get; private set; }
    public bool LabKeepsMyRemovedEmail { get; private set; }
    public IReadOnlyList<LabVirtualMachine> MyVms { get; private set; } = [];
    public IReadOnlyList<LabDisk> MyDisks { get; private set; } = [];
    public int CostRecords { get; private set; }
    public decimal CostTotal { get; private set; }
    public OperationStatus? LastExport { get; private set; }
    public IReadOnlyList<LabUsageExportFile> ExportFiles { get; private set; } = [];
    public string? ExportFolder { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string Sub => SubscriptionId.ToString("D");

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var found = await db.FindLabAsync(Sub, ResourceGroup, LabName, me, Right.Read, ct);
        if (found.Lab is not { } lab)
        {
            return NotFound();
        }
        Lab = lab;
        IsAdmin = await db.IsLabAdminAsync(me, lab, ct);
        MyEmail = await db.Users.Where(u => u.Id == me).Select(u => u.Email).FirstOrDefaultAsync(ct);
        var email = MyEmail?.ToUpperInvariant();
        LabUsesMyEmail = email is not null && lab.NotificationEmail?.ToUpperInvariant() == email;
        LabKeepsMyRemovedEmail = email is not null && lab.RemovedNotificationEmail?.ToUpperInvariant() == email;
        MyVms = await db.LabVirtualMachines.AsNoTracking().Where(v => v.LabId == lab.Id && v.OwnerObjectId == me).OrderBy(v => v.CreatedAt).ToListAsync(ct);
        MyDisks = await db.LabDisks.AsNoTracking().Where(d => d.LabId == lab.Id && d.OwnerObjectId == me).OrderBy(d => d.CreatedAt).ToListAsync(ct);
        var costs = db.LabCosts.Where(c => c.LabId == lab.Id && c.OwnerObjectId == me);
        CostRecords = await costs.CountAsync(ct);
        CostTotal = (CostRecords == 0 ? 0 : await costs.SumAsync(c => c.AmountCents, ct)) / 100m;
        var resource = lab.ResourceId.Value;
        var job = await db.Jobs.AsNoTracking().Where(j => j.Kind == ExportLabUsage.JobKind && j.RequestedBy == me && j.ResourceId == resource)
            .OrderByDescending(j => j.CreatedAt).FirstOrDefaultAsync(ct);
        if (job is not null)
        {
            LastExport = OperationEndpoints.ToStatus(job);
            if (job.Result is { } json && System.Text.Json.JsonSerializer.Deserialize<LabUsageExportResult>(json, System.Text.Json.JsonSerializerOptions.Web) is { } result)
            {
                ExportFiles = result.Files;
                ExportFolder = result.Folder;
            }
        }
        return Page();
    }

    public DateTimeOffset? AnonymizedOn(DateTimeOffset? deletedAt) => deletedAt?.AddDays(Lab.AnonymizeAfterDays);

    /// Runs the usage export into the lab's own storage, for any member of the lab.
    public async Task<IActionResult> OnPostExportAsync(CancellationToken ct)
    {
        var me = User.ObjectId();
        var found = await db.FindLabAsync(Sub, ResourceGroup, LabName, me, Right.UseLab, ct);
        if (found.Lab is not { } lab)
        {
            return found.Problem?.StatusCode == StatusCodes.Status403Forbidden ? Forbid() : NotFound();
        }
        await ExportLabUsage.EnqueueAsync(db, lab, null, clock.GetUtcNow(), null, me, clock, ct);
        Message = "Your export is running. Reload this page to see when it is done.";
        return RedirectToPage();
    }

    public async Task<IActionResult> OnGetDownloadAsync(string folder, string name, CancellationToken ct)
    {
        var result = await LabUsageEndpoints.DownloadAsync(Sub, ResourceGroup, LabName, folder, name, User, db, blobs, ct);
        return result.Result is FileStreamHttpResult file ? File(file.FileStream, file.ContentType, file.FileDownloadName) : NotFound();
    }
}
