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
        // The row first, inside a transaction that stays open while the document is written: the row's key is the
        // fence. Of two submissions of one job ID at once, the second's insert waits for the first's commit and then
        // fails (409), so only the submission whose row commits ever writes history.json. A document that fails to
        // write rolls the row back, so a run row never points at a missing document (decision 0070).
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.ExperimentRuns.Add(run);
        await db.SaveChangesAsync(ct);
        await JobHistoryDocument.WriteAsync(blobs, workspace.StorageAccount, new JobHistoryDocument(jobId, experimentName, title, now, parameters, user), ct);
        await transaction.CommitAsync(ct);
        return run;
    }

    public static IReadOnlyDictionary<string, string> ParametersOf(ExperimentRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(run.Parameters) ?? [];
    }
}
