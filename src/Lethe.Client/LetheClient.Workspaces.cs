using System.Net.Http.Headers;

namespace Lethe.Client;

public sealed partial class LetheClient
{
    private const string MlProvider = "providers/Microsoft.MachineLearningServices";

    public static string WorkspacePath(Guid subscriptionId, string resourceGroup, string workspace)
        => $"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(resourceGroup)}/{MlProvider}/workspaces/{Segment(workspace)}";

    // Workspaces

    public Task<WorkspaceResource> CreateOrUpdateWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, CreateWorkspaceRequest request, CancellationToken ct = default)
        => SendAsync<WorkspaceResource>(HttpMethod.Put, WorkspacePath(subscriptionId, resourceGroup, name), request, ct);

    public Task<WorkspaceResource> GetWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct = default)
        => SendAsync<WorkspaceResource>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, name), null, ct);

    public IAsyncEnumerable<WorkspaceResource> ListWorkspacesAsync(Guid subscriptionId, string? resourceGroup = null, CancellationToken ct = default)
        => ListAsync<WorkspaceResource>(resourceGroup is null
            ? $"subscriptions/{subscriptionId:D}/{MlProvider}/workspaces"
            : $"subscriptions/{subscriptionId:D}/resourceGroups/{Segment(resourceGroup)}/{MlProvider}/workspaces", ct);

    public IAsyncEnumerable<WorkspaceResource> ListDeletedWorkspacesAsync(Guid subscriptionId, CancellationToken ct = default)
        => ListAsync<WorkspaceResource>($"subscriptions/{subscriptionId:D}/{MlProvider}/deletedWorkspaces", ct);

    public Task<IReadOnlyList<CompanionResource>> ListCompanionResourcesAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct = default)
        => SendAsync<IReadOnlyList<CompanionResource>>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, name) + "/companions", null, ct);

    /// Soft delete: the workspace can be recovered until its retention ends.
    public Task DeleteWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, name), null, ct);

    /// Permanent delete (live or soft-deleted workspace): a durable operation; returns its status URL
    /// (the Azure-AsyncOperation header) to wait on with <see cref="WaitForOperationAsync"/>.
    public async Task<string> PurgeWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct = default)
    {
        using var response = await SendRawAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, name) + "?forceToPurge=true", null, ct);
        return response.Headers.TryGetValues("Azure-AsyncOperation", out var values) ? values.First()
            : throw new LetheApiException(response.StatusCode, "The server did not say where to follow the purge.", null, null, null);
    }

    public Task<WorkspaceResource> RecoverWorkspaceAsync(Guid subscriptionId, string resourceGroup, string name, CancellationToken ct = default)
        => SendAsync<WorkspaceResource>(HttpMethod.Post, WorkspacePath(subscriptionId, resourceGroup, name) + "/recover", null, ct);

    // Members

    public Task<IReadOnlyList<WorkspaceMemberResource>> ListWorkspaceMembersAsync(Guid subscriptionId, string resourceGroup, string workspace, CancellationToken ct = default)
        => SendAsync<IReadOnlyList<WorkspaceMemberResource>>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + "/members", null, ct);

    public Task<WorkspaceMemberResource> AddWorkspaceMemberAsync(Guid subscriptionId, string resourceGroup, string workspace, AddWorkspaceMemberRequest request, CancellationToken ct = default)
        => SendAsync<WorkspaceMemberResource>(HttpMethod.Post, WorkspacePath(subscriptionId, resourceGroup, workspace) + "/members", request, ct);

    public Task RemoveWorkspaceMemberAsync(Guid subscriptionId, string resourceGroup, string workspace, Guid principalId, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/members/{principalId:D}", null, ct);

    // Assets

    /// The latest version of each asset of one kind, by name; follows the nextLinks to the end.
    public IAsyncEnumerable<AssetResource> ListAssetsAsync(Guid subscriptionId, string resourceGroup, string workspace, string kind, CancellationToken ct = default)
        => ListAsync<AssetResource>(WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/{Segment(kind)}", ct);

    public Task<AssetResource> GetAssetAsync(Guid subscriptionId, string resourceGroup, string workspace, string kind, string name, CancellationToken ct = default)
        => SendAsync<AssetResource>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/{Segment(kind)}/{Segment(name)}", null, ct);

    /// Registers (or updates) a data asset, notebook, pipeline, compute or experiment.
    public Task<AssetResource> PutAssetAsync(Guid subscriptionId, string resourceGroup, string workspace, string kind, string name, PutAssetRequest request, CancellationToken ct = default)
        => SendAsync<AssetResource>(HttpMethod.Put, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/{Segment(kind)}/{Segment(name)}", request, ct);

    /// Deletes an asset: unregisters a data asset (its data stays in storage), deletes a compute, removes a model with its files.
    public Task DeleteAssetAsync(Guid subscriptionId, string resourceGroup, string workspace, string kind, string name, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/{Segment(kind)}/{Segment(name)}", null, ct);

    /// Registers a new version of a model with its files (path in the model → content).
    public async Task<AssetResource> RegisterModelAsync(Guid subscriptionId, string resourceGroup, string workspace, string name, IReadOnlyDictionary<string, Stream> files, string? description = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        using var form = new MultipartFormDataContent();
        if (description is not null)
        {
            form.Add(new StringContent(description), "description");
        }
        foreach (var (path, content) in files)
        {
            var part = new StreamContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", path);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/models/{Segment(name)}/versions") { Content = form };
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<AssetResource>(response.Content, Json, ct))!;
    }

    /// A model's versions, oldest first; follows the nextLinks to the end.
    public IAsyncEnumerable<AssetResource> ListModelVersionsAsync(Guid subscriptionId, string resourceGroup, string workspace, string name, CancellationToken ct = default)
        => ListAsync<AssetResource>(WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/models/{Segment(name)}/versions", ct);

    /// A model version as a zip of its files, streamed: the caller disposes the response.
    public Task<HttpResponseMessage> DownloadModelAsync(Guid subscriptionId, string resourceGroup, string workspace, string name, int version, CancellationToken ct = default)
        => SendRawAsync(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/models/{Segment(name)}/versions/{version}/download", null, ct, HttpCompletionOption.ResponseHeadersRead);

    // Jobs

    public Task<JobResource> SubmitJobAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, SubmitJobRequest request, CancellationToken ct = default)
        => SendAsync<JobResource>(HttpMethod.Put, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}", request, ct);

    public Task<JobResource> GetJobAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendAsync<JobResource>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}", null, ct);

    /// The workspace's jobs, newest first; follows the nextLinks to the end.
    public IAsyncEnumerable<JobResource> ListJobsAsync(Guid subscriptionId, string resourceGroup, string workspace, bool includeArchived = false, CancellationToken ct = default)
        => ListAsync<JobResource>(WorkspacePath(subscriptionId, resourceGroup, workspace) + "/jobs" + (includeArchived ? "?includeArchived=true" : ""), ct);

    public Task<JobResource> ArchiveJobAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendAsync<JobResource>(HttpMethod.Post, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/archive", null, ct);

    public Task<JobResource> RestoreJobAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendAsync<JobResource>(HttpMethod.Post, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/restore", null, ct);

    /// Deletes the job: its record, history document and artifacts.
    public Task DeleteJobAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}", null, ct);

    /// Uploads an output or a log: <paramref name="path"/> starts with outputs/ or logs/.
    public async Task UploadArtifactAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, string path, Stream content, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/artifacts/{PathSegments(path)}")
        {
            Content = new StreamContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    public Task<IReadOnlyList<ArtifactResource>> ListArtifactsAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendAsync<IReadOnlyList<ArtifactResource>>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/artifacts", null, ct);

    /// One artifact, streamed: the caller disposes the response.
    public Task<HttpResponseMessage> DownloadArtifactAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, string path, CancellationToken ct = default)
        => SendRawAsync(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/artifacts/{PathSegments(path)}", null, ct, HttpCompletionOption.ResponseHeadersRead);

    /// All outputs and logs as a zip, streamed: the caller disposes the response.
    public Task<HttpResponseMessage> DownloadAllArtifactsAsync(Guid subscriptionId, string resourceGroup, string workspace, string jobId, CancellationToken ct = default)
        => SendRawAsync(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/jobs/{Segment(jobId)}/download", null, ct, HttpCompletionOption.ResponseHeadersRead);

    // Storage (the workspace's storage account: storage-level actions)

    public Task<IReadOnlyList<ArtifactResource>> ListStorageAsync(Guid subscriptionId, string resourceGroup, string workspace, string? prefix = null, CancellationToken ct = default)
        => SendAsync<IReadOnlyList<ArtifactResource>>(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + "/storage" + (prefix is null ? "" : "?prefix=" + Uri.EscapeDataString(prefix)), null, ct);

    public async Task UploadToStorageAsync(Guid subscriptionId, string resourceGroup, string workspace, string path, Stream content, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/storage/{PathSegments(path)}")
        {
            Content = new StreamContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendRequestAsync(request, HttpCompletionOption.ResponseContentRead, ct);
    }

    /// One blob of the workspace's storage (a job history document under azureml/, uploaded data...), streamed: the caller disposes the response.
    public Task<HttpResponseMessage> DownloadFromStorageAsync(Guid subscriptionId, string resourceGroup, string workspace, string path, CancellationToken ct = default)
        => SendRawAsync(HttpMethod.Get, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/storage/{PathSegments(path)}", null, ct, HttpCompletionOption.ResponseHeadersRead);

    /// Deletes data at the storage level: a blob soft delete, as the storage account does; job files (under azureml/)
    /// are removed for good, and deleting a job's history document leaves the job marked as having none.
    public Task DeleteFromStorageAsync(Guid subscriptionId, string resourceGroup, string workspace, string path, CancellationToken ct = default)
        => SendAsync(HttpMethod.Delete, WorkspacePath(subscriptionId, resourceGroup, workspace) + $"/storage/{PathSegments(path)}", null, ct);

    /// A relative path as URL segments, each escaped; '.' and '..' segments are refused here, as System.Uri would resolve them.
    private static string PathSegments(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return string.Join('/', path.Split('/').Select(s => s is "." or ".." ? throw new ArgumentException("A path cannot hold '.' or '..' segments.", nameof(path)) : Uri.EscapeDataString(s)));
    }

    /// Sends a prepared request (multipart or raw content) with the bearer token; error answers throw.
    private async Task<HttpResponseMessage> SendRequestAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        if (AccessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await _http.SendAsync(request, completion, ct);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw await ToExceptionAsync(response, ct);
        }
    }
}
