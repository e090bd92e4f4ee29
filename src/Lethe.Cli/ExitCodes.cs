namespace Lethe.Cli;

/// What `lethe` exits with, as a shell script tests it (README: "Exit codes").
internal static class ExitCodes
{
    public const int Success = 0;

    /// The server refused the request (validation, not found, forbidden, conflict), an operation
    /// failed, or a local step (a migration) failed.
    public const int Failed = 1;

    /// The command line is wrong: an unknown command or option, a missing or malformed value.
    public const int Usage = 2;

    /// Not logged in, the session expired, or the server did not accept the credentials.
    public const int NotLoggedIn = 3;

    /// No answer from the server: nothing listens at the URL, or it timed out.
    public const int Unreachable = 4;

    /// Ctrl-C, as shells report SIGINT (128 + 2).
    public const int Interrupted = 130;
}

/// A failure the CLI itself detected, with the exit code and a hint for the user. Never shown with a stack trace.
internal sealed class CliException : Exception
{
    public CliException() : this(ExitCodes.Failed, "The command failed.") { }

    public CliException(string message) : this(ExitCodes.Failed, message) { }

    public CliException(string message, Exception innerException) : base(message, innerException) => ExitCode = ExitCodes.Failed;

    public CliException(int exitCode, string message, string? hint = null, Exception? innerException = null) : base(message, innerException)
    {
        ExitCode = exitCode;
        Hint = hint;
    }

    public int ExitCode { get; }
    public string? Hint { get; }

    public static CliException Usage(string message, string? hint = null) => new(ExitCodes.Usage, message, hint);

    public static CliException NotLoggedIn(string message, string? hint) => new(ExitCodes.NotLoggedIn, message, hint);
}
