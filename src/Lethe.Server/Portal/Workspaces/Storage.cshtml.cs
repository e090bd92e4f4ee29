using Lethe.Blobs;
using Lethe.Resources;
using Lethe.Server.Api.Workspaces;
using Lethe.Server.Portal.Shared;
using Lethe.Telemetry;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Lethe.Server.Portal.Workspaces;

/// Seed 001: the workspace's storage by folder, job history documents under azureml/ included; readers download,
/// contributors delete (after a confirmation of its own, no script needed).
public sealed class StorageModel(LetheDb db, IBlobStore blobs, TelemetryRecorder telemetry, TimeProvider clock) : PageModel
{
    public Workspace Workspace { get; private set; } = null!;
    public WorkspaceStorage.Folder Folder { get; private set; } = null!;
    public bool CanDelete { get; private set; }

    /// The blob whose delete awaits confirmation, if any.
    public BlobItem? Confirm { get; private set; }

    [TempData]
    public string? Message { get; set; }

    [TempData]
    public string? Error { get; set; }

    public string WorkspacePath => WorkspacePortal.PathOf(Workspace);

    public string PagePath => WorkspacePath + "/storage";

    public string FolderLink(string prefix) => prefix.Length == 0 ? PagePath : $"{PagePath}?prefix={Uri.EscapeDataString(prefix)}";

    /// What a delete does to this blob, in words (the confirmation says it).
    public static string Consequence(string path)
        => JobBlobs.JobOfHistoryDocument(path) is { } job
            ? $"The history document of job {job} is deleted for good. The job stays, marked as having no history document. This cannot be undone."
            : path.StartsWith(JobBlobs.Root, StringComparison.Ordinal)
                ? "This job file is deleted for good. This cannot be undone."
                : "The blob is soft-deleted, as the storage account does: it is purged when the blob retention ends.";

    public async Task<IActionResult> OnGetAsync(Guid subscriptionId, string resourceGroup, string name, string? prefix, string? confirm, CancellationToken ct)
    {
        prefix ??= "";
        if ((prefix.Length > 0 && !prefix.EndsWith('/')) || BlobNames.PrefixError(prefix) is not null)
        {
            return BadRequest();
        }
        var (workspace, decision) = await WorkspacePortal.LoadAsync(db, User, subscriptionId, resourceGroup, name, Right.Read, ct);
        if (workspace is null)
        {
            return decision == AccessDecision.Forbidden ? Forbid() : NotFound();
        }
        Workspace = workspace;
        Folder = await WorkspaceStorage.BrowseAsync(blobs, workspace.StorageAccount, prefix, ct);
        CanDelete = await db.CheckAsync(User.ObjectId(), workspace.ResourceId, Right.Write, ct) == AccessDecision.Allowed;
        Confirm = CanDelete && confirm is not null ? Folder.Blobs.FirstOrDefault(b => b.Name == confirm) : null;
        await telemetry.RecordAsync(User, "ListStorage", workspace.ResourceId.Value + "/storage", ct);
        return Page();
    }

    public async Task<IActionResult> OnGetDownloadAsync(Guid subscriptionId, string resourceGroup, string name, string path, CancellationToken ct)
    {
        // The API's handler unescapes its catch-all route value: hand it the path as a route would.
        var result = await JobEndpoints.DownloadFromStorageAsync(subscriptionId.ToString("D"), resourceGroup, name, Uri.EscapeDataString(path ?? ""), User, db, blobs, ct);
        if (result is not FileStreamHttpResult file)
        {
            return result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status400BadRequest } ? BadRequest() : NotFound();
        }
        await telemetry.RecordAsync(User, "DownloadFromStorage", WorkspaceIds.Workspace(subscriptionId, resourceGroup, name).Value + "/storage", ct);
        return File(file.FileStream, file.ContentType, file.FileDownloadName);
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid subscriptionId, string resourceGroup, string name, string path, CancellationToken ct)
    {
        path ??= "";
        // The API's handler unescapes its catch-all route value: hand it the path as a route would.
        var result = await JobEndpoints.DeleteFromStorageAsync(subscriptionId.ToString("D"), resourceGroup, name, Uri.EscapeDataString(path), User, db, blobs, clock, ct);
        var folder = path.Contains('/', StringComparison.Ordinal) ? path[..(path.LastIndexOf('/') + 1)] : "";
        if (HandlerOutcome.ErrorOf(result) is { } error)
        {
            Error = error;
        }
        else
        {
            Message = JobBlobs.JobOfHistoryDocument(path) is { } job
                ? $"Deleted the history document of job {job}. The job stays, marked as having no history document."
                : $"Deleted {path[folder.Length..]}.";
            await telemetry.RecordAsync(User, "DeleteFromStorage", WorkspaceIds.Workspace(subscriptionId, resourceGroup, name).Value + "/storage", ct);
        }
        var page = $"/workspaces/{subscriptionId:D}/{Uri.EscapeDataString(resourceGroup)}/{Uri.EscapeDataString(name)}/storage";
        return Redirect(folder.Length == 0 ? page : $"{page}?prefix={Uri.EscapeDataString(folder)}");
    }
}
