using Microsoft.Extensions.Options;

namespace Lethe.Jobs;

/// The job workers of one server process.
public sealed class JobOptions
{
    public const string Section = "Lethe:Jobs";

    /// Jobs this process runs at once. 0 leaves the work to other nodes.
    public int Workers { get; set; } = 2;

    /// How long a claim lasts without renewal; a running job renews it every third of this. A job
    /// whose process died is taken over by another worker at most this long after.
    public int LeaseSeconds { get; set; } = 60;

    /// How often an idle worker looks for work queued by other nodes (jobs queued in this process
    /// wake it at once).
    public int PollIntervalMilliseconds { get; set; } = 1000;

    /// Days an ended job (succeeded, failed, cancelled) is kept for its operation's status, then deleted by a sweep.
    public int RetentionDays { get; set; } = 30;

    internal TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    internal TimeSpan PollInterval => TimeSpan.FromMilliseconds(PollIntervalMilliseconds);
}

internal sealed class JobOptionsValidation : IValidateOptions<JobOptions>
{
    public ValidateOptionsResult Validate(string? name, JobOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = Problems(options).ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    public static IEnumerable<string> Problems(JobOptions options)
    {
        if (options.Workers is < 0 or > 64)
        {
            yield return $"{JobOptions.Section}:{nameof(JobOptions.Workers)} must be between 0 and 64 (was {options.Workers}).";
        }
        // Below a few seconds the heartbeat (a third of the lease) would be a busy loop on the database.
        if (options.LeaseSeconds is < 3 or > 3600)
        {
            yield return $"{JobOptions.Section}:{nameof(JobOptions.LeaseSeconds)} must be between 3 and 3600 (was {options.LeaseSeconds}).";
        }
        if (options.RetentionDays is < 1 or > 3650)
        {
            yield return $"{JobOptions.Section}:{nameof(JobOptions.RetentionDays)} must be between 1 and 3650 (was {options.RetentionDays}).";
        }
        if (options.PollIntervalMilliseconds is < 10 or > 600_000)
        {
            yield return $"{JobOptions.Section}:{nameof(JobOptions.PollIntervalMilliseconds)} must be between 10 and 600000 (was {options.PollIntervalMilliseconds}).";
        }
    }
}
