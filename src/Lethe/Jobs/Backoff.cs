namespace Lethe.Jobs;

/// How long a failed job waits before its next attempt: doubling from <see cref="First"/>, capped at
/// <see cref="Max"/>, shortened by up to a fifth at random so that jobs that failed together (a
/// dependency was down) do not all come back at the same moment.
internal static class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Max = TimeSpan.FromHours(1);
    public const double MaxJitter = 0.2;

    public static TimeSpan For(int attempt) => For(attempt, Random.Shared.NextDouble());

    /// The decision, pure: <paramref name="jitter"/> in [0, 1) takes that share of
    /// <see cref="MaxJitter"/> off the delay. The cap applies before the jitter, so capped retries
    /// stay spread out too.
    public static TimeSpan For(int attempt, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(jitter);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(jitter, 1);
        // Math.Pow saturates to infinity instead of overflowing, and Min brings that back to the cap.
        var seconds = Math.Min(Max.TotalSeconds, First.TotalSeconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromSeconds(seconds * (1 - (MaxJitter * jitter)));
    }
}
