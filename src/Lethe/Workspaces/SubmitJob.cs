using System.Text.Json;
using Lethe.Blobs;

namespace Lethe.Workspaces;

/// Submitting a job records who submitted it, when and with which parameters, and writes its job history
/// document (with the user's name, email and object ID) to the workspace's storage.
public static class SubmitJob
{
    public static async Task<ExperimentRun> RunAsync(
        LetheDb db, IBlobStore blobs, Workspace workspace, string jobId, string experimentName, string? title,
        IReadOnlyDictionary<string, string> parameters, JobHistoryUser user, DateTimeOffset now, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(user);
        var run = new ExperimentRun
        {
            WorkspaceId = workspace.Id,
            JobId = jobId,
            JobIdKey = jobId.ToLowerInvariant(),
            Incarnation = Guid.NewGuid(),
            ExperimentName = experimentName,
            Title = title,
            Status = RunStatus.Queued,
            Parameters = JsonSerializer.Serialize(parameters),
            SubmittedBy = user.UserObjectId,
            SubmittedAt = now,
        };
        // The document first: a run row never points at a missing document (a retry overwrites it).
        await JobHistoryDocument.WriteAsync(blobs, workspace.StorageAccount, new JobHistoryDocument(jobId, experimentName, title, now, parameters, user), ct);
        db.ExperimentRuns.Add(run);
        await db.SaveChangesAsync(ct);
        return run;
    }

    public static IReadOnlyDictionary<string, string> ParametersOf(ExperimentRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(run.Parameters) ?? [];
    }
}
