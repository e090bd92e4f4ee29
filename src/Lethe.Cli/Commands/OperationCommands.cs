using System.CommandLine;
using System.Globalization;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe operation show|wait|retry`: long work that a 202 answer named.
internal static class OperationCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        Argument<string> Operation() => new("OPERATION") { Description = "The operation ID (a GUID), its path /operations/{id}, or the URL of its Azure-AsyncOperation header" };

        var showId = Operation();
        var show = new Command("show", "Show an operation's status") { showId }.With(options.Server, options.Output);
        show.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var status = await connection.Client.GetOperationAsync(Reference(run.Value(showId)!, connection.Server), ct);
            await WriteAsync(run, status);
            return ExitCodes.Success;
        });

        var waitId = Operation();
        var interval = new Option<double>("--interval") { Description = "Seconds between polls", DefaultValueFactory = _ => 1, HelpName = "SECONDS" };
        interval.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double>() is <= 0 or > 3600)
            {
                r.AddError("--interval is between 0 and 3600 seconds.");
            }
        });
        var wait = new Command("wait", "Wait for an operation to end, with a progress bar; exits 1 when it failed") { waitId }.With(interval, options.Server, options.Output);
        wait.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            return await WaitAsync(run, connection, Reference(run.Value(waitId)!, connection.Server), $"Operation {run.Value(waitId)}", TimeSpan.FromSeconds(run.Value(interval)), ct);
        });

        var retryId = Operation();
        var retry = new Command("retry", "Queue a failed operation again; it resumes from its last checkpoint") { retryId }.With(options.Server, options.Output);
        retry.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var status = await connection.Client.RetryOperationAsync(Reference(run.Value(retryId)!, connection.Server), ct);
            await WriteAsync(run, status);
            return ExitCodes.Success;
        });

        return Cli.Group("operation", "Long-running operations", show, wait, retry);
    }

    /// Polls until the operation ends, with a progress bar on a terminal; exit code 1 when it did not succeed.
    public static async Task<int> WaitAsync(Invocation run, ServerConnection connection, string operation, string description, TimeSpan interval, CancellationToken ct)
    {
        var status = await run.WithProgressAsync(description, 100, report =>
            connection.Client.WaitForOperationAsync(operation, new InlineProgress<int>(p => report(p)), interval, ct));
        await WriteAsync(run, status);
        if (status.Status == OperationStates.Succeeded)
        {
            return ExitCodes.Success;
        }
        await run.WriteErrorAsync(status.Error is { } error ? $"The operation {status.Status.ToLowerInvariant()}: {error.Message}" : $"The operation ended as {status.Status}.", null);
        return ExitCodes.Failed;
    }

    /// A GUID, or a status URL on this server (the token never goes to another host); anything
    /// else goes to the server as an ID, so that it says what is wrong with it.
    private static string Reference(string value, Uri server)
    {
        if (Guid.TryParse(value, out _))
        {
            return value;
        }
        if (Uri.TryCreate(value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return server.IsBaseOf(url) ? url.ToString() : throw CliException.Usage($"The operation URL is not on {server}.");
        }
        // "/operations/{id}", as a status body's id names it.
        return $"operations/{Invocation.Segment(value.TrimEnd('/').Split('/')[^1])}";
    }

    public static async Task WriteAsync(Invocation run, OperationStatus status)
    {
        if (run.Json)
        {
            await run.WriteJsonAsync(status);
            return;
        }
        run.Write(Invocation.Details(
            ("Operation", status.Name),
            ("Status", status.Status),
            ("Progress", $"{status.PercentComplete}%"),
            ("Started", status.StartTime?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)),
            ("Ended", status.EndTime?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture)),
            ("Error", status.Error is { } e ? $"{e.Code}: {e.Message}" : null),
            ("Attempt", status.Attempt > 0 ? status.Attempt.ToString(CultureInfo.InvariantCulture) : null),
            ("Last error", status.Status == OperationStates.InProgress ? status.LastError : null),
            ("Next try", status.NextAttemptAt?.UtcDateTime.ToString("u", CultureInfo.InvariantCulture))));
    }
}
