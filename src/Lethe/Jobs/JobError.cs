namespace Lethe.Jobs;

/// What a failed job records of its exception: type and message of the exception and of its root
/// cause, bounded. Never the stack trace: the error is shown to whoever asked for the job, and
/// the full exception goes to the server log.
internal static class JobError
{
    public const int MaxLength = 1000;

    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var text = Line(exception);
        var root = exception.GetBaseException();
        if (!ReferenceEquals(root, exception))
        {
            text += " ---> " + Line(root);
        }
        return Truncate(text);
    }

    public static string Truncate(string text)
        => text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength - 1), "…");

    private static string Line(Exception e) => $"{e.GetType().Name}: {e.Message}";
}
