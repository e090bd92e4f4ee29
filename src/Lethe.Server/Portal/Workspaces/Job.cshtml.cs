using Lethe.Blobs;
using Lethe.Resources;
using Lethe.Server.Api.Workspaces;
using Lethe.Server.Portal.Shared;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Portal.Workspaces;

/// A job: its facts and history document, Outputs + logs with a Download per artifact and Download all (a zip streamed
/// as it is made), and Archive, Restore and Delete (confirmed on a page state of its own) for contributors.
public sealed class JobModel(LetheDb db, IBlobStore blobs, TelemetryRecorder telemetry, TimeProvider clock) : PageModel
{
    public bool CanWrite { get; private set; }

    /// Whether the job's delete awaits confirmation.
    public bool ConfirmDelete { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string HistoryDocumentLink => $"{WorkspacePortal.PathOf(Workspace)}/storage?handler=Download&path={Uri.EscapeDataString(JobBlobs.HistoryDocument(Run.JobId))}";

    public Workspace Workspace { get; private set; } = null!;
    public ExperimentRun Run { get; private set; } = null!;
    public IReadOnlyList<BlobItem> Artifacts { get; private set; } = [];
    public IReadOnlyDictionary<string, string> Parameters { get; private set; } = new Dictionary<string, string>();
    public string Folder => JobBlobs.Folder(Run.JobId);
    public string Path => $"{WorkspacePortal.PathOf(Workspace)}/jobs/{Uri.EscapeDataString(Run.JobId)}";

    public async Task<IActionResult> OnGetAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, bool confirmDelete, CancellationToken ct)
    {
        if (await LoadAsync(subscriptionId, resourceGroup, name, jobId, ct) is { } problem)
        {
            return problem;
        }
        CanWrite = await db.CheckAsync(User.ObjectId(), Workspace.ResourceId, Right.Write, ct) == AccessDecision.Allowed;
        ConfirmDelete = CanWrite && confirmDelete;
        var list = new List<BlobItem>();
        foreach (var sub in new[] { "logs/", "outputs/" })
        {
            await foreach (var blob in blobs.ListAsync(Workspace.StorageAccount, Folder + sub, ct))
            {
                list.Add(blob);
            }
        }
        Artifacts = list;
        Parameters = SubmitJob.ParametersOf(Run);
        await telemetry.RecordAsync(User, "GetJob", $"{Workspace.ResourceId.Value}/jobs/{Run.JobId}", ct);
        return Page();
    }

    public async Task<IActionResult> OnGetDownloadAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, string path, CancellationToken ct)
    {
        if (await LoadAsync(subscriptionId, resourceGroup, name, jobId, ct) is { } problem)
        {
            return problem;
        }
        if (WorkspaceNames.ArtifactPathProblem(path) is not null)
        {
            return BadRequest();
        }
        var blob = JobBlobs.Artifact(Run.JobId, path);
        var properties = await blobs.GetPropertiesAsync(Workspace.StorageAccount, blob, ct);
        if (properties is null)
        {
            return NotFound();
        }
        await telemetry.RecordAsync(User, "DownloadJobArtifact", $"{Workspace.ResourceId.Value}/jobs/{Run.JobId}", ct);
        var stream = await blobs.OpenReadAsync(Workspace.StorageAccount, blob, ct);
        return File(stream, properties.ContentType ?? BlobItem.DefaultContentType, path[(path.LastIndexOf('/') + 1)..]);
    }

    public async Task<IActionResult> OnGetDownloadAllAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, CancellationToken ct)
    {
        if (await LoadAsync(subscriptionId, resourceGroup, name, jobId, ct) is { } problem)
        {
            return problem;
        }
        await telemetry.RecordAsync(User, "DownloadAllJobArtifacts", $"{Workspace.ResourceId.Value}/jobs/{Run.JobId}", ct);
        var container = Workspace.StorageAccount;
        var id = Run.JobId;
        return new ZipDownload($"{id}.zip", (body, token) => ArtifactArchive.WriteJobAsync(blobs, container, id, body, null, token));
    }

    public async Task<IActionResult> OnPostArchiveAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, CancellationToken ct)
    {
        var result = await JobEndpoints.SetArchivedAsync(subscriptionId.ToString("D"), resourceGroup, name, jobId, User, db, clock.GetUtcNow(), ct);
        return await DoneAsync(result, subscriptionId, resourceGroup, name, jobId, "ArchiveJob", $"Archived job {jobId}: it is hidden from the jobs list, its data kept.", toWorkspace: true, ct);
    }

    public async Task<IActionResult> OnPostRestoreAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, CancellationToken ct)
    {
        var result = await JobEndpoints.SetArchivedAsync(subscriptionId.ToString("D"), resourceGroup, name, jobId, User, db, null, ct);
        return await DoneAsync(result, subscriptionId, resourceGroup, name, jobId, "RestoreJob", $"Restored job {jobId}.", toWorkspace: false, ct);
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, CancellationToken ct)
    {
        var result = await JobEndpoints.DeleteAsync(subscriptionId.ToString("D"), resourceGroup, name, jobId, User, db, blobs, ct);
        return await DoneAsync(result, subscriptionId, resourceGroup, name, jobId, "DeleteJob", $"Deleted job {jobId} with its history document, outputs and logs.", toWorkspace: true, ct);
    }

    /// The API handler's answer as the page's message; a job that is gone or hidden sends the user to its workspace.
    private async Task<IActionResult> DoneAsync(IResult result, Guid subscriptionId, string resourceGroup, string name, string jobId, string action, string success, bool toWorkspace, CancellationToken ct)
    {
        var workspace = $"/workspaces/{subscriptionId:D}/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name)}";
        if (HandlerOutcome.ErrorOf(result) is { } error)
        {
            Error = error;
            return Redirect($"{workspace}/jobs/{Uri.EscapeDataString(jobId)}");
        }
        Message = success;
        await telemetry.RecordAsync(User, action, $"{WorkspaceIds.Workspace(subscriptionId, resourceGroup, name).Value}/jobs/{jobId}", ct);
        return Redirect(toWorkspace ? $"{workspace}#jobs-heading" : $"{workspace}/jobs/{Uri.EscapeDataString(jobId)}");
    }

    private async Task<IActionResult?> LoadAsync(Guid subscriptionId, string resourceGroup, string name, string jobId, CancellationToken ct)
    {
        if (WorkspaceNames.JobIdProblem(jobId) is not null)
        {
            return NotFound();
        }
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Read, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        var key = jobId.ToLowerInvariant();
        var run = await db.ExperimentRuns.AsNoTracking().FirstOrDefaultAsync(r => r.WorkspaceId == workspace.Id && r.JobIdKey == key, ct);
        if (run is null)
        {
            return NotFound();
        }
        Workspace = workspace;
        Run = run;
        return null;
    }
}
