using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Lethe.Jobs;

/// Puts work on the durable queue, and takes back work that has not started.
[SuppressMessage("Naming", "CA1711", Justification = "It is the job queue (the entry point to it), not a collection type that should be named after its element.")]
public static class JobQueue
{
    public const int DefaultMaxAttempts = 5;

    // Payloads are read back by JobContext.ReadPayload with the same settings.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// Adds a pending job to the context without saving, so that the caller saves it in the same
    /// transaction as its own changes: the work is queued if and only if the request is recorded.
    /// Workers in this process are woken when the context next saves.
    public static Job Add(
        LetheDb db,
        string kind,
        string payloadJson,
        Guid? requestedBy,
        string? resourceId,
        TimeProvider clock,
        DateTimeOffset? runAfter = null,
        int maxAttempts = DefaultMaxAttempts,
        bool exclusive = false)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        ArgumentNullException.ThrowIfNull(payloadJson);
        ArgumentNullException.ThrowIfNull(clock);
        // SQLite does not enforce column lengths; fail here rather than on PostgreSQL only.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kind.Length, 128, nameof(kind));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(resourceId?.Length ?? 0, 2048, nameof(resourceId));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        if (exclusive && resourceId is null)
        {
            throw new ArgumentException("An exclusive job names the resource it is exclusive on.", nameof(resourceId));
        }

        var now = clock.GetUtcNow();
        var job = new Job
        {
            // Time-ordered IDs keep the primary key index append-mostly.
            Id = Guid.CreateVersion7(now),
            Kind = kind,
            Payload = payloadJson,
            State = JobState.Pending,
            MaxAttempts = maxAttempts,
            RunAfter = runAfter ?? now,
            RequestedBy = requestedBy,
            ResourceId = resourceId,
            Exclusive = exclusive,
            CreatedAt = now,
        };
        db.Jobs.Add(job);
        db.SavedChanges += WakeWorkers;
        return job;
    }

    /// The live (pending or running) exclusive job of this kind on this resource, if any.
    public static Task<Job?> FindLiveAsync(LetheDb db, string kind, string resourceId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.Jobs.AsNoTracking()
            .FirstOrDefaultAsync(j => j.Exclusive && j.Kind == kind && j.ResourceId == resourceId
                && (j.State == JobState.Pending || j.State == JobState.Running), ct);
    }

    /// Queues an exclusive job with whatever else the context holds (one save), unless a live one of
    /// the same kind on the same resource exists: then nothing is saved and that one is returned. The
    /// unique index on live exclusive jobs decides between concurrent requests; the loser gets the
    /// winner's job.
    public static async Task<Job> EnqueueExclusiveAsync(
        LetheDb db,
        string kind,
        string payloadJson,
        Guid? requestedBy,
        string resourceId,
        TimeProvider clock,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(resourceId);
        if (await FindLiveAsync(db, kind, resourceId, ct) is { } live)
        {
            db.ChangeTracker.Clear();
            return live;
        }
        var job = Add(db, kind, payloadJson, requestedBy, resourceId, clock, exclusive: true);
        try
        {
            await db.SaveChangesAsync(ct);
            return job;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            // Lost the race on the unique index: the winner's job is the operation. Anything else
            // (the index did not fire) goes on as the error it is.
            if (await FindLiveAsync(db, kind, resourceId, ct) is { } winner)
            {
                return winner;
            }
            throw;
        }
    }

    /// Puts a failed job back in the queue, from its checkpoint, with its error count reset. False when
    /// it is not failed (it ended otherwise, or is already queued again), or when a live exclusive job
    /// of its kind holds its resource.
    public static async Task<bool> RetryAsync(LetheDb db, Guid jobId, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        try
        {
            var retried = await db.Jobs
                .Where(j => j.Id == jobId && j.State == JobState.Failed)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(j => j.State, JobState.Pending)
                    .SetProperty(j => j.RunAfter, now)
                    .SetProperty(j => j.Failures, 0)
                    .SetProperty(j => j.LostLeases, 0)
                    .SetProperty(j => j.CompletedAt, (DateTimeOffset?)null), ct) == 1;
            if (retried)
            {
                JobSignal.Notify();
            }
            return retried;
        }
        catch (System.Data.Common.DbException)
        {
            // A set-based update reports the unique index as the provider's own error. False only if
            // that is what it was: another live job of this kind holds the resource.
            var failed = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.Kind, j.ResourceId }).FirstOrDefaultAsync(ct);
            if (failed?.ResourceId is not null && await FindLiveAsync(db, failed.Kind, failed.ResourceId, ct) is not null)
            {
                return false;
            }
            throw;
        }
    }

    /// Queues a job and saves it at once.
    public static async Task<Job> EnqueueAsync(
        LetheDb db,
        string kind,
        string payloadJson,
        Guid? requestedBy,
        string? resourceId,
        TimeProvider clock,
        CancellationToken ct)
    {
        var job = Add(db, kind, payloadJson, requestedBy, resourceId, clock);
        await db.SaveChangesAsync(ct);
        return job;
    }

    /// Queues a job whose payload is <typeparamref name="TPayload"/> as JSON (web defaults), read
    /// back with <see cref="JobContext.ReadPayload{T}"/>. Payloads hold IDs, never personal data in clear.
    public static Task<Job> EnqueueAsync<TPayload>(
        LetheDb db,
        string kind,
        TPayload payload,
        Guid? requestedBy,
        string? resourceId,
        TimeProvider clock,
        CancellationToken ct)
        => EnqueueAsync(db, kind, JsonSerializer.Serialize(payload, Json), requestedBy, resourceId, clock, ct);

    /// Cancels a job that no worker has started (or that waits for its next attempt). False when it
    /// is running or already ended: a running job is not interrupted half-way.
    public static async Task<bool> CancelAsync(LetheDb db, Guid jobId, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        return await db.Jobs
            .Where(j => j.Id == jobId && j.State == JobState.Pending)
            .ExecuteUpdateAsync(set => set
                .SetProperty(j => j.State, JobState.Cancelled)
                .SetProperty(j => j.CompletedAt, now), ct) == 1;
    }

    private static void WakeWorkers(object? sender, SavedChangesEventArgs e)
    {
        if (sender is LetheDb db)
        {
            db.SavedChanges -= WakeWorkers;
        }
        JobSignal.Notify();
    }
}

/// Wakes this process's idle workers when a job is queued here, so that local work starts without
/// waiting for the poll interval. Jobs queued by other nodes are found by polling.
internal static class JobSignal
{
    private static TaskCompletionSource s_next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// Completes at the next notification. Take it before looking for work, so that a job queued
    /// between the look and the wait is not missed.
    public static Task Next => Volatile.Read(ref s_next).Task;

    public static void Notify()
        => Interlocked.Exchange(ref s_next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
