using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lethe.Jobs;

/// A sweep (blob purge, workspace purge, lab anonymization, telemetry retention...) that runs every
/// <see cref="Interval"/> as a durable job scheduling its own next run: exactly one run is pending
/// at a time whatever the number of nodes, and a node that dies mid-sweep leaves it to another.
/// Register the subclass as an <see cref="IJobHandler"/>; the server queues a first run at start.
///
/// A sweep never stops its schedule: the next run is queued before the sweep starts, in one
/// transaction with the run's checkpoint, so a sweep that throws still has a next run (brought
/// forward to <see cref="RetryAfterFailure"/>). A sweep processes its records through
/// <see cref="TryRecordAsync"/>: a record that fails is counted, and after
/// <see cref="SetAsideAfter"/> failures in a row it is set aside (<see cref="SetAsideRecord"/>),
/// logged and reported by the health check, and the others go on.
public abstract partial class RecurringJob(LetheDb db, TimeProvider clock, ILogger? logger = null) : IJobHandler
{
    /// Failures in a row after which a record is set aside.
    public const int SetAsideAfter = 3;

    /// A run whose sweep failed as a whole (the database was down) is followed this soon, or after
    /// <see cref="Interval"/> when that is shorter.
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(5);

    // Runs fail only while queuing their successor (the database is unreachable); backoff is capped
    // at an hour, so this many attempts ride out days of outage instead of ending the schedule.
    internal const int MaxAttemptsPerRun = 100;

    protected ILogger Logger { get; } = logger ?? NullLogger.Instance;

    // The failing records of this run, or null when there are too many to hold (FailingHeldInMemory).
    private HashSet<string>? _failing;
    private bool _failingLoaded;

    protected LetheDb Db { get; } = db;

    protected TimeProvider Clock { get; } = clock;

    public abstract string Kind { get; }

    public abstract TimeSpan Interval { get; }

    /// Set by a sweep that knows when its next work falls due (a notice, a shutdown): the next run is
    /// brought forward to then, if that is sooner than <see cref="Interval"/>.
    protected DateTimeOffset? NextDue { get; set; }

    /// One sweep; returns the job's result (JSON). Must be idempotent: a worker that dies mid-sweep
    /// leaves the run to another, which sweeps again.
    protected abstract Task<string> SweepAsync(CancellationToken ct);

    private sealed record Schedule(Guid Next);

    public async Task RunAsync(JobContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var next = context.Job.Checkpoint is { Length: > 0 } checkpoint
            ? JsonSerializer.Deserialize<Schedule>(checkpoint, JobQueue.Json)!.Next
            : await ScheduleNextAsync(context, ct);
        try
        {
            context.SetResult(await SweepAsync(ct));
            if (NextDue is { } due)
            {
                var now = Clock.GetUtcNow();
                var at = due > now ? due : now;
                await Db.Jobs.Where(j => j.Id == next && j.State == JobState.Pending && j.RunAfter > at)
                    .ExecuteUpdateAsync(set => set.SetProperty(j => j.RunAfter, at), ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException and not LeaseLostException)
        {
            // The next run is queued already; bring it forward and end this run failed, without
            // retrying it: a retry would be a second run alongside the next one.
            var soon = Clock.GetUtcNow() + (Interval < RetryAfterFailure ? Interval : RetryAfterFailure);
            await Db.Jobs.Where(j => j.Id == next && j.State == JobState.Pending && j.RunAfter > soon)
                .ExecuteUpdateAsync(set => set.SetProperty(j => j.RunAfter, soon), CancellationToken.None);
            context.RetryOnError = false;
            throw;
        }
    }

    private async Task<Guid> ScheduleNextAsync(JobContext context, CancellationToken ct)
    {
        // The next run is queued with this run's checkpoint, in one transaction: never zero, never two.
        await using var transaction = await Db.Database.BeginTransactionAsync(ct);
        var next = JobQueue.Add(Db, Kind, "{}", null, null, Clock, Clock.GetUtcNow() + Interval, MaxAttemptsPerRun);
        await Db.SaveChangesAsync(ct);
        await context.CheckpointAsync(JsonSerializer.Serialize(new Schedule(next.Id), JobQueue.Json), 0, ct);
        await transaction.CommitAsync(ct);
        return next.Id;
    }

    /// Failing records (not yet set aside) a run keeps in memory to forget them when they succeed; beyond
    /// this many it asks the database on each success instead, so the sweep's memory never grows with them.
    internal const int FailingHeldInMemory = 100;

    /// The keys of the records this sweep set aside, as a subquery: a sweep leaves them out in SQL
    /// (<c>!setAside.Contains(key)</c>) rather than loading them, since a lab whose every VM fails sets a
    /// million of them aside. A record named by a GUID (its <see cref="Guid.ToString()"/>, lower-case) is matched
    /// as <c>id.ToString().ToLower()</c>: SQLite stores GUIDs upper-case.
    protected IQueryable<string> SetAsideKeys => Db.SetAsideRecords.Where(r => r.Kind == Kind && r.SetAside).Select(r => r.RecordKey);

    /// Runs <paramref name="work"/> on one record. True when it succeeded; when it threw, the failure
    /// is counted (and the record set aside after <see cref="SetAsideAfter"/> in a row) and false is
    /// returned, so the sweep goes on with the next record. <paramref name="recordKey"/> names the
    /// record by ID: it is logged and shown to operators, so it never holds personal data.
    protected async Task<bool> TryRecordAsync(string recordKey, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(recordKey);
        ArgumentNullException.ThrowIfNull(work);
        if (!_failingLoaded)
        {
            // Set-aside records never come here (the sweeps leave them out); the others that failed are few, or
            // else looked up one by one.
            var failing = await Db.SetAsideRecords.AsNoTracking().Where(r => r.Kind == Kind && !r.SetAside)
                .OrderBy(r => r.RecordKey).Select(r => r.RecordKey).Take(FailingHeldInMemory + 1).ToListAsync(ct);
            _failing = failing.Count <= FailingHeldInMemory ? [.. failing] : null;
            _failingLoaded = true;
        }
        try
        {
            await work(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not LeaseLostException)
        {
            // Whatever the failed work left tracked must not be saved with the next record's changes.
            Db.ChangeTracker.Clear();
            await RecordFailureAsync(recordKey, e, ct);
            return false;
        }
        if (_failing is null || _failing.Remove(recordKey))
        {
            await Db.SetAsideRecords.Where(r => r.Kind == Kind && r.RecordKey == recordKey).ExecuteDeleteAsync(ct);
        }
        return true;
    }

    private async Task RecordFailureAsync(string recordKey, Exception e, CancellationToken ct)
    {
        var now = Clock.GetUtcNow();
        var error = JobError.Describe(e);
        var record = await Db.SetAsideRecords.FirstOrDefaultAsync(r => r.Kind == Kind && r.RecordKey == recordKey, ct);
        if (record is null)
        {
            record = new SetAsideRecord { Kind = Kind, RecordKey = recordKey, LastError = error, FirstFailedAt = now };
            Db.SetAsideRecords.Add(record);
            if (_failing is { Count: >= FailingHeldInMemory })
            {
                _failing = null;
            }
            _failing?.Add(recordKey);
        }
        record.Failures++;
        record.LastError = error;
        record.LastFailedAt = now;
        record.SetAside = record.Failures >= SetAsideAfter;
        await Db.SaveChangesAsync(ct);
        Db.ChangeTracker.Clear();
        if (record.SetAside)
        {
            LogSetAside(Logger, e, Kind, recordKey, record.Failures);
        }
        else
        {
            LogRecordFailed(Logger, e, Kind, recordKey, record.Failures);
        }
    }

    /// At start: queue a run of each recurring job that has none waiting (first start, or after an
    /// operator cancelled it).
    public static async Task EnsureScheduledAsync(LetheDb db, IEnumerable<IJobHandler> handlers, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(handlers);
        foreach (var kind in handlers.OfType<RecurringJob>().Select(h => h.Kind).Distinct())
        {
            var waiting = await db.Jobs.AnyAsync(j => j.Kind == kind && (j.State == JobState.Pending || j.State == JobState.Running), ct);
            if (!waiting)
            {
                JobQueue.Add(db, kind, "{}", null, null, clock, maxAttempts: MaxAttemptsPerRun);
                await db.SaveChangesAsync(ct);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep {Kind} failed on record {RecordKey} ({Failures} time(s) in a row); it is tried again next run.")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string kind, string recordKey, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweep {Kind} set record {RecordKey} aside after {Failures} failures in a row: later runs pass over it until an operator fixes it and deletes its SetAsideRecords row.")]
    private static partial void LogSetAside(ILogger logger, Exception exception, string kind, string recordKey, int failures);
}
