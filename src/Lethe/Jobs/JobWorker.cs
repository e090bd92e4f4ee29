using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lethe.Jobs;

/// Runs durable jobs in this process: <see cref="JobOptions.Workers"/> loops, each claiming one job
/// at a time under its own lease owner, running its handler in a DI scope, renewing the lease while
/// it runs, and recording the outcome. Every node runs these loops; the claim keeps them apart.
internal sealed partial class JobWorker(
    IServiceScopeFactory scopes,
    IJobClaimer claimer,
    IOptions<JobOptions> options,
    TimeProvider clock,
    ILogger<JobWorker> logger) : BackgroundService
{
    // After a database error outside a handler (claim, bookkeeping): long enough not to flood the log.
    private static readonly TimeSpan ErrorPause = TimeSpan.FromSeconds(5);

    // Bookkeeping after the handler still has to happen when the process is stopping (a finished
    // job must be recorded, a running one handed back), so it gets its own short deadline.
    private static readonly TimeSpan BookkeepingTimeout = TimeSpan.FromSeconds(15);

    /// Lost leases (the worker died) do not count against <see cref="Job.MaxAttempts"/>; only a job
    /// that loses this many is given up, as it likely brings its workers down itself.
    internal const int MaxLostLeases = 25;

    private readonly JobOptions _options = options.Value;

    // Distinguishes this process's loops from other processes' in LeaseOwner, for operators.
    private readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.WhenAll(Enumerable.Range(1, _options.Workers).Select(i => LoopAsync(Owner(i), stoppingToken)));

    private string Owner(int loop)
    {
        var owner = $"{_instance}/{loop}";
        return owner.Length <= 128 ? owner : owner[^128..];
    }

    private async Task LoopAsync(string owner, CancellationToken stoppingToken)
    {
        // Leave the host's start-up path before the first database round trip.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = JobSignal.Next;
            try
            {
                if (!await RunNextAsync(owner, stoppingToken))
                {
                    await IdleAsync(wake, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogLoopError(ex, owner);
                try
                {
                    await Task.Delay(ErrorPause, clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task IdleAsync(Task wake, CancellationToken stoppingToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        await Task.WhenAny(Task.Delay(_options.PollInterval, clock, idle.Token), wake);
        // Frees the timer when woken early.
        await idle.CancelAsync();
    }

    /// Claims one job and runs it to an outcome. False when nothing was due. Tests drive workers
    /// through this, one step at a time, with a fake clock.
    internal async Task<bool> RunNextAsync(string owner, CancellationToken stoppingToken)
    {
        Job? job;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            job = await claimer.ClaimAsync(db, owner, clock.GetUtcNow(), _options.Lease, stoppingToken);
        }
        if (job is null)
        {
            return false;
        }
        LogClaimed(job.Id, job.Kind, job.Attempt, owner);
        var outcome = await RunAsync(job, owner, stoppingToken);
        await RecordAsync(job, owner, outcome);
        return true;
    }

    private async Task<Outcome> RunAsync(Job job, string owner, CancellationToken stoppingToken)
    {
        if (job.LostLeases > MaxLostLeases)
        {
            // Claimed back again and again from workers that died: the job itself likely kills them.
            return new Outcome.Failed($"The job's worker stopped {job.LostLeases} times before it finished; it is not started again.", Retry: false, Counted: false);
        }

        await using var scope = scopes.CreateAsyncScope();
        var context = new JobContext(job, owner, scope.ServiceProvider.GetRequiredService<LetheDb>());
        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var stopHeartbeat = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(job, owner, context, running, stopHeartbeat.Token);
        try
        {
            // Resolved inside the try: a handler that cannot be constructed fails this attempt like any error.
            var handlers = scope.ServiceProvider.GetServices<IJobHandler>().Where(h => h.Kind == job.Kind).Take(2).ToList();
            if (handlers.Count != 1)
            {
                return new Outcome.Failed(
                    handlers.Count == 0
                        ? $"No handler is registered for job kind '{job.Kind}'."
                        : $"Several handlers are registered for job kind '{job.Kind}'.",
                    Retry: false, Counted: true);
            }
            await handlers[0].RunAsync(context, running.Token);
            return new Outcome.Succeeded(context.Result);
        }
        catch (LeaseLostException)
        {
            return new Outcome.LeaseLost();
        }
        catch (OperationCanceledException) when (context.LeaseLost)
        {
            return new Outcome.LeaseLost();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return new Outcome.Stopped();
        }
        catch (Exception ex)
        {
            LogHandlerFailed(ex, job.Id, job.Kind, job.Attempt);
            return new Outcome.Failed(JobError.Describe(ex), Retry: context.RetryOnError, Counted: true);
        }
        finally
        {
            await stopHeartbeat.CancelAsync();
            await heartbeat;
        }
    }

    /// Renews the lease every third of its length while the handler runs, on a DbContext of its own
    /// (the handler's is not thread-safe). When the lease is gone, cancels the handler: another worker
    /// may already be running the job.
    private async Task HeartbeatAsync(Job job, string owner, JobContext context, CancellationTokenSource handler, CancellationToken stop)
    {
        var interval = _options.Lease / 3;
        var heldUntil = job.LeaseUntil ?? clock.GetUtcNow();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
            while (true)
            {
                await Task.Delay(interval, clock, stop);
                var until = clock.GetUtcNow() + _options.Lease;
                bool held;
                try
                {
                    held = await JobLease.RenewAsync(db, job, owner, until, stop);
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // A blip in the database: the lease is still ours until it expires.
                    LogRenewFailed(ex, job.Id);
                    held = clock.GetUtcNow() < heldUntil;
                    until = heldUntil;
                }
                if (!held)
                {
                    context.LeaseLost = true;
                    await handler.CancelAsync();
                    return;
                }
                heldUntil = until;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task RecordAsync(Job job, string owner, Outcome outcome)
    {
        if (outcome is Outcome.LeaseLost)
        {
            LogLeaseLost(job.Id, owner);
            return;
        }
        using var deadline = new CancellationTokenSource(BookkeepingTimeout);
        var ct = deadline.Token;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<LetheDb>();
        var now = clock.GetUtcNow();
        var (recorded, what) = outcome switch
        {
            Outcome.Succeeded s => (await JobLease.CompleteAsync(db, job, owner, s.Result, now, ct), "succeeded"),
            Outcome.Failed { Retry: true } f when job.Failures + 1 < job.MaxAttempts
                => (await JobLease.RetryAsync(db, job, owner, f.Error, now + Backoff.For(job.Failures + 1), ct), "failed, to be retried"),
            Outcome.Failed f => (await JobLease.FailAsync(db, job, owner, f.Error, f.Counted, now, ct), "failed"),
            Outcome.Stopped => (await JobLease.ReleaseAsync(db, job, owner, now, ct), "handed back at shutdown"),
            _ => throw new InvalidOperationException($"Unexpected outcome {outcome}."),
        };
        if (recorded)
        {
            LogRecorded(job.Id, job.Kind, job.Attempt, what);
            if (what is "succeeded" or "failed")
            {
                await RedactPayloadAsync(scope.ServiceProvider, db, job, ct);
            }
        }
        else
        {
            // The lease expired and another worker took the job over; its outcome stands.
            LogLeaseLost(job.Id, owner);
        }
    }

    /// An ended job keeps no credentials or personal data in its payload (issue 10): its handler says what stays.
    private static async Task RedactPayloadAsync(IServiceProvider services, LetheDb db, Job job, CancellationToken ct)
    {
        var handler = services.GetServices<IJobHandler>().FirstOrDefault(h => h.Kind == job.Kind);
        if (handler?.PayloadWhenEnded(job.Payload) is { } kept && kept != job.Payload)
        {
            await db.Jobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(set => set.SetProperty(j => j.Payload, kept), ct);
        }
    }

    private abstract record Outcome
    {
        public sealed record Succeeded(string? Result) : Outcome;

        public sealed record Failed(string Error, bool Retry, bool Counted) : Outcome;

        /// The process is stopping: hand the job back.
        public sealed record Stopped : Outcome;

        /// Another worker holds the job now: record nothing.
        public sealed record LeaseLost : Outcome;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} ({Kind}) attempt {Attempt} claimed by {Owner}.")]
    private partial void LogClaimed(Guid jobId, string kind, int attempt, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) attempt {Attempt}: {Outcome}.")]
    private partial void LogRecorded(Guid jobId, string kind, int attempt, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} ({Kind}) attempt {Attempt} failed.")]
    private partial void LogHandlerFailed(Exception exception, Guid jobId, string kind, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: {Owner} lost its lease; another worker has the job.")]
    private partial void LogLeaseLost(Guid jobId, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: renewing the lease failed.")]
    private partial void LogRenewFailed(Exception exception, Guid jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job worker {Owner} failed outside a handler.")]
    private partial void LogLoopError(Exception exception, string owner);
}
