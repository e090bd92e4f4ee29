using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Jobs;

/// What a handler sees of its job, and how it records progress.
public sealed class JobContext
{
    private readonly LetheDb _db;
    private readonly string _owner;

    internal JobContext(Job job, string owner, LetheDb db)
    {
        Job = job;
        _owner = owner;
        _db = db;
    }

    /// The job as claimed: id, payload, the checkpoint to resume from, the attempt.
    /// Its <see cref="Job.Checkpoint"/> and <see cref="Job.Progress"/> follow each successful checkpoint.
    public Job Job { get; }

    internal string? Result { get; private set; }

    /// False when an error of this run must end the job at once instead of being retried (a recurring
    /// run whose successor is already queued).
    public bool RetryOnError { get; set; } = true;

    /// Set when a checkpoint or a heartbeat found the lease gone.
    internal bool LeaseLost { get; set; }

    /// Reads the payload written by <see cref="JobQueue.EnqueueAsync{TPayload}"/>.
    public T ReadPayload<T>() => JsonSerializer.Deserialize<T>(Job.Payload, JobQueue.Json)
        ?? throw new InvalidOperationException($"The payload of job {Job.Id} is null.");

    /// Records that the work up to here is done. Written only while this worker still holds the
    /// lease (fenced by owner and attempt); otherwise throws <see cref="LeaseLostException"/> and the
    /// handler must stop. Runs on the scope's <see cref="LetheDb"/>, so inside a transaction the
    /// handler opened, the step's changes and its checkpoint commit together or not at all.
    public async Task CheckpointAsync(string checkpointJson, int progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(checkpointJson);
        ArgumentOutOfRangeException.ThrowIfNegative(progress);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(progress, 100);
        var written = await JobLease.Held(_db, Job.Id, _owner, Job.Attempt)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.Checkpoint, checkpointJson)
                .SetProperty(j => j.Progress, progress), ct);
        if (written == 0)
        {
            LeaseLost = true;
            throw new LeaseLostException($"Job {Job.Id}: this worker no longer holds the lease; the checkpoint was not recorded.");
        }
        Job.Checkpoint = checkpointJson;
        Job.Progress = progress;
    }

    /// The job's result as JSON (e.g. where the export was written), stored when the run succeeds.
    public void SetResult(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        Result = json;
    }
}
