using System.Security.Claims;
using Lethe.Blobs;
using Lethe.Client;
using Lethe.Resources;
using Lethe.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Server.Api.Workspaces;

/// Jobs (experiment runs) with their history documents, outputs and logs; and the workspace's storage,
/// where data is deleted at the storage level.
internal static class JobEndpoints
{
    public static void Map(RouteGroupBuilder ws)
    {
        ws.MapGet("/jobs", ListAsync).WithName("ListJobs").Produces<ArmList<JobResource>>();
        ws.MapPut("/jobs/{jobId}", SubmitAsync).WithName("SubmitJob").Produces<JobResource>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status409Conflict);
        ws.MapGet("/jobs/{jobId}", GetAsync).WithName("GetJob").Produces<JobResource>();
        ws.MapDelete("/jobs/{jobId}", DeleteAsync).WithName("DeleteJob").Produces(StatusCodes.Status204NoContent);
        ws.MapPost("/jobs/{jobId}/archive", (string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, TimeProvider clock, CancellationToken ct)
            => SetArchivedAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, clock.GetUtcNow(), ct)).WithName("ArchiveJob").Produces<JobResource>();
        ws.MapPost("/jobs/{jobId}/restore", (string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
            => SetArchivedAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, null, ct)).WithName("RestoreJob").Produces<JobResource>();
        ws.MapGet("/jobs/{jobId}/artifacts", ListArtifactsAsync).WithName("ListJobArtifacts").Produces<IReadOnlyList<ArtifactResource>>();
        ws.MapPut("/jobs/{jobId}/artifacts/{**path}", UploadArtifactAsync).WithName("UploadJobArtifact").Produces(StatusCodes.Status204NoContent)
            .AcceptsRawBody("The artifact's content, stored as sent with its Content-Type.");
        ws.MapGet("/jobs/{jobId}/artifacts/{**path}", DownloadArtifactAsync).WithName("DownloadJobArtifact")
            .ProducesBinary("The artifact's bytes, with the content type it was stored with.");
        ws.MapGet("/jobs/{jobId}/download", DownloadAllAsync).WithName("DownloadAllJobArtifacts").Produces(StatusCodes.Status200OK, contentType: "application/zip");
        ws.MapGet("/storage", ListStorageAsync).WithName("ListStorage").Produces<IReadOnlyList<ArtifactResource>>();
        ws.MapGet("/storage/{**path}", DownloadFromStorageAsync).WithName("DownloadFromStorage")
            .ProducesBinary("The blob's bytes, with the content type it was stored with.").ProducesProblem(StatusCodes.Status404NotFound);
        ws.MapPut("/storage/{**path}", UploadToStorageAsync).WithName("UploadToStorage").Produces(StatusCodes.Status204NoContent)
            .AcceptsRawBody("The blob's content, stored as sent with its Content-Type.");
        ws.MapDelete("/storage/{**path}", DeleteFromStorageAsync).WithName("DeleteFromStorage").Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private sealed record JobLookup(Workspace? Workspace, ExperimentRun? Run, IResult? Problem, Guid Principal);

    private static async Task<JobLookup> LoadAsync(string sub, string rg, string ws, string jobId, ClaimsPrincipal principal, LetheDb db, Right right, CancellationToken ct, bool tracking = false)
    {
        if (WorkspaceNames.JobIdProblem(jobId) is { } problem)
        {
            return new(null, null, Problems.Invalid("jobId", problem), default);
        }
        var lookup = await WorkspaceAccess.LoadAsync(sub, rg, ws, principal, db, right, ct);
        if (lookup.Problem is not null)
        {
            return new(null, null, lookup.Problem, lookup.Principal);
        }
        var key = jobId.ToLowerInvariant();
        var query = db.ExperimentRuns.Where(r => r.WorkspaceId == lookup.Workspace!.Id && r.JobIdKey == key);
        var run = await (tracking ? query : query.AsNoTracking()).FirstOrDefaultAsync(ct);
        return run is null ? new(null, null, Problems.NotFound("The job"), lookup.Principal) : new(lookup.Workspace, run, null, lookup.Principal);
    }

    /// The workspace's jobs, newest first, a page at a time (`$top`, `$skipToken`); archived jobs only with includeArchived=true.
    public static async Task<IResult> ListAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, [FromQuery] bool? includeArchived, HttpRequest request,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skipToken")] string? skipToken, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        if (Paging.Problem(top, skipToken) is { } paging)
        {
            return paging;
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        var query = db.ExperimentRuns.AsNoTracking().Where(r => r.WorkspaceId == workspace.Id);
        if (includeArchived != true)
        {
            query = query.Where(r => r.ArchivedAt == null);
        }
        // The job ID is unique in the workspace: jobs submitted at the same instant keep one order across pages.
        var ordered = query.OrderByDescending(r => r.SubmittedAt).ThenBy(r => r.JobIdKey);
        return TypedResults.Ok(await Paging.PageAsync(ordered, request, top, skipToken, r => ToResource(workspace, r), ct));
    }

    public static async Task<IResult> GetAsync(string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, CancellationToken ct)
    {
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Read, ct);
        return lookup.Problem ?? TypedResults.Ok(ToResource(lookup.Workspace!, lookup.Run!));
    }

    public static async Task<IResult> SubmitAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string jobId, SubmitJobRequest request,
        ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        if (WorkspaceNames.JobIdProblem(jobId) is { } idProblem)
        {
            return Problems.Invalid("jobId", idProblem);
        }
        if (WorkspaceNames.AssetNameProblem(request.ExperimentName, "experiment name") is { } experimentProblem)
        {
            return Problems.Invalid("experimentName", experimentProblem);
        }
        if (request.DisplayName is { Length: > 256 } || request.DisplayName?.Any(char.IsControl) == true)
        {
            return Problems.Invalid("displayName", "A job's display name has at most 256 characters and no control characters.");
        }
        var parameters = request.Parameters ?? new Dictionary<string, string>();
        if (parameters.Count > 100 || parameters.Any(p => p.Key.Length is 0 or > 128 || p.Value is null || p.Value.Length > 1024))
        {
            return Problems.Invalid("parameters", "At most 100 parameters, names of 1 to 128 characters, values of at most 1024.");
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var workspace = lookup.Workspace!;
        var key = jobId.ToLowerInvariant();
        if (await db.ExperimentRuns.AnyAsync(r => r.WorkspaceId == workspace.Id && r.JobIdKey == key, ct))
        {
            return Problems.Conflict("A job with this ID exists in the workspace.");
        }
        var me = lookup.Principal;
        var user = await db.Users.AsNoTracking().Where(u => u.Id == me).Select(u => new { u.DisplayName, u.Email }).FirstAsync(ct);
        var run = await SubmitJob.RunAsync(db, blobs, workspace, jobId, request.ExperimentName, request.DisplayName, parameters,
            new JobHistoryUser(string.IsNullOrWhiteSpace(user.DisplayName) ? user.Email ?? me.ToString() : user.DisplayName, user.Email, me), clock.GetUtcNow(), ct);
        return TypedResults.Created($"{workspace.ResourceId.Value}/jobs/{run.JobId}", ToResource(workspace, run));
    }

    /// Archives (with the time) or restores (null) a job; the portal's Archive and Restore too.
    internal static async Task<IResult> SetArchivedAsync(string sub, string rg, string ws, string jobId, ClaimsPrincipal principal, LetheDb db, DateTimeOffset? archivedAt, CancellationToken ct)
    {
        var lookup = await LoadAsync(sub, rg, ws, jobId, principal, db, Right.Write, ct, tracking: true);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        lookup.Run!.ArchivedAt = archivedAt is null ? null : lookup.Run.ArchivedAt ?? archivedAt;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResource(lookup.Workspace!, lookup.Run));
    }

    /// The job's record, history document and artifacts are removed for good (<see cref="DeleteJob"/>).
    public static async Task<IResult> DeleteAsync(string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        await DeleteJob.RunAsync(db, blobs, lookup.Workspace!, lookup.Run!, ct);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> ListArtifactsAsync(string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var folder = JobBlobs.Folder(lookup.Run!.JobId);
        var list = new List<ArtifactResource>();
        foreach (var sub in new[] { "logs/", "outputs/" })
        {
            await foreach (var blob in blobs.ListAsync(lookup.Workspace!.StorageAccount, folder + sub, ct))
            {
                list.Add(new ArtifactResource(blob.Name[folder.Length..], blob.Length, blob.ContentType, blob.LastModified));
            }
        }
        return TypedResults.Ok(list);
    }

    public static async Task<IResult> UploadArtifactAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string jobId, string path, HttpRequest request, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        // A catch-all route value keeps %2F (and so '..%2F') encoded: decode, then validate what it means.
        path = Uri.UnescapeDataString(path);
        if (WorkspaceNames.ArtifactPathProblem(path) is { } pathProblem)
        {
            return Problems.Invalid("path", pathProblem);
        }
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        // Fenced: a job (or workspace) deleted while the upload streamed in keeps nothing of it (decision 0071).
        return await WorkspaceFence.PutAsync(db, blobs, lookup.Workspace!, lookup.Run, JobBlobs.Artifact(lookup.Run!.JobId, path), request.Body, ContentTypeOf(request), ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("The job");
    }

    public static async Task<IResult> DownloadArtifactAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string jobId, string path, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        // A catch-all route value keeps %2F (and so '..%2F') encoded: decode, then validate what it means.
        path = Uri.UnescapeDataString(path);
        if (WorkspaceNames.ArtifactPathProblem(path) is { } pathProblem)
        {
            return Problems.Invalid("path", pathProblem);
        }
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        return await StreamBlobAsync(blobs, lookup.Workspace!.StorageAccount, JobBlobs.Artifact(lookup.Run!.JobId, path), "The artifact", ct);
    }

    /// "Download all": outputs and logs as one zip, streamed to the response as it is made.
    public static async Task<IResult> DownloadAllAsync(string subscriptionId, string resourceGroupName, string workspaceName, string jobId, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        var lookup = await LoadAsync(subscriptionId, resourceGroupName, workspaceName, jobId, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var container = lookup.Workspace!.StorageAccount;
        var id = lookup.Run!.JobId;
        return Results.Stream(async body => await ArtifactArchive.WriteJobAsync(blobs, container, id, body, null, ct), "application/zip", $"{id}.zip");
    }

    public static async Task<IResult> ListStorageAsync(string subscriptionId, string resourceGroupName, string workspaceName, [FromQuery] string? prefix, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        if (BlobNames.PrefixError(prefix) is { } prefixProblem)
        {
            return Problems.Invalid("prefix", prefixProblem.Replace("Blob prefix", "The prefix", StringComparison.Ordinal));
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        var list = new List<ArtifactResource>();
        await foreach (var blob in blobs.ListAsync(lookup.Workspace!.StorageAccount, prefix, ct))
        {
            list.Add(new ArtifactResource(blob.Name, blob.Length, blob.ContentType, blob.LastModified));
            if (list.Count == 5000)
            {
                break;
            }
        }
        return TypedResults.Ok(list);
    }

    public static async Task<IResult> UploadToStorageAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string path, HttpRequest request, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        // A catch-all route value keeps %2F (and so '..%2F') encoded: decode, then validate what it means.
        path = Uri.UnescapeDataString(path);
        if (WorkspaceNames.StoragePathProblem(path) is { } pathProblem)
        {
            return Problems.Invalid("path", pathProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        return await WorkspaceFence.PutAsync(db, blobs, lookup.Workspace!, null, path, request.Body, ContentTypeOf(request), ct)
            ? TypedResults.NoContent()
            : Problems.NotFound("The workspace");
    }

    /// Downloads any blob of the workspace's storage, the job history documents under azureml/ included (seed 001).
    public static async Task<IResult> DownloadFromStorageAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string path, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, CancellationToken ct)
    {
        // A catch-all route value keeps %2F (and so '..%2F') encoded: decode, then validate what it means.
        path = Uri.UnescapeDataString(path);
        if (WorkspaceNames.StorageReadPathProblem(path) is { } pathProblem)
        {
            return Problems.Invalid("path", pathProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Read, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        return await StreamBlobAsync(blobs, lookup.Workspace!.StorageAccount, path, "The blob", ct);
    }

    /// A storage-level delete (WorkspaceStorage.DeleteAsync): data is soft-deleted as the storage account does; job files
    /// are removed for good, and a deleted history document leaves its job marked as having none.
    public static async Task<IResult> DeleteFromStorageAsync(
        string subscriptionId, string resourceGroupName, string workspaceName, string path, ClaimsPrincipal principal, LetheDb db, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        // A catch-all route value keeps %2F (and so '..%2F') encoded: decode, then validate what it means.
        path = Uri.UnescapeDataString(path);
        if (WorkspaceNames.StorageDeletePathProblem(path) is { } pathProblem)
        {
            return Problems.Invalid("path", pathProblem);
        }
        var lookup = await WorkspaceAccess.LoadAsync(subscriptionId, resourceGroupName, workspaceName, principal, db, Right.Write, ct);
        if (lookup.Problem is not null)
        {
            return lookup.Problem;
        }
        return await WorkspaceStorage.DeleteAsync(db, blobs, lookup.Workspace!, path, clock.GetUtcNow(), ct) ? TypedResults.NoContent() : Problems.NotFound("The blob");
    }

    internal static async Task<IResult> StreamBlobAsync(IBlobStore blobs, string container, string name, string what, CancellationToken ct)
    {
        var properties = await blobs.GetPropertiesAsync(container, name, ct);
        if (properties is null)
        {
            return Problems.NotFound(what);
        }
        try
        {
            var stream = await blobs.OpenReadAsync(container, name, ct);
            return Results.Stream(stream, properties.ContentType ?? BlobItem.DefaultContentType, name[(name.LastIndexOf('/') + 1)..]);
        }
        catch (BlobNotFoundException)
        {
            return Problems.NotFound(what);
        }
    }

    private static string? ContentTypeOf(HttpRequest request)
    {
        var type = request.ContentType;
        return type is null || type.Length > BlobNames.MaxContentTypeLength || type.Any(c => c is < ' ' or > '~') ? null : type;
    }

    public static JobResource ToResource(Workspace workspace, ExperimentRun r) => new(
        $"{workspace.ResourceId.Value}/jobs/{r.JobId}", r.JobId, r.ExperimentName, r.Title, r.Status.ToString(),
        SubmitJob.ParametersOf(r), r.SubmittedBy, r.SubmittedAt, r.ArchivedAt is not null, r.HistoryDocumentDeletedAt is null, r.HistoryDocumentDeletedAt);
}
