using System.CommandLine;
using System.Text.Json;
using Lethe.Client;
using Spectre.Console;

namespace Lethe.Cli;

internal enum OutputFormat
{
    Table,
    Json,
}

/// The options several commands share. One instance per run, so that parallel runs (the tests) share nothing.
internal sealed class CommonOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "The Lethe server's URL [default: $LETHE_SERVER, else the server you logged in to, else " + ServerConnection.DefaultServer + "]",
        HelpName = "URL",
    };

    public Option<OutputFormat> Output { get; } = new("--output", "-o")
    {
        Description = "How to print the result: a readable table, or JSON for scripts",
        DefaultValueFactory = _ => OutputFormat.Table,
    };
}

/// One command being run: its parsed command line, the terminal, and the server it talks to once
/// connected. <see cref="RunAsync"/> turns every failure into a message on stderr and an exit code.
internal sealed class Invocation(Terminal terminal, ParseResult parse, CommonOptions options)
{
    private static readonly JsonSerializerOptions OutputJson = new(LetheClient.Json) { WriteIndented = true };

    public Terminal Terminal => terminal;
    public ParseResult Parse => parse;
    public bool Json => parse.GetValue(options.Output) == OutputFormat.Json;

    /// The server the command talks to, once <see cref="ConnectAsync"/> has chosen it.
    public Uri? Server { get; private set; }

    public T? Value<T>(Option<T> option) => parse.GetValue(option);
    public T? Value<T>(Argument<T> argument) => parse.GetValue(argument);

    /// The SDK client for the chosen server; <paramref name="signedIn"/> requires (and sends) the stored login.
    public async Task<ServerConnection> ConnectAsync(bool signedIn, CancellationToken ct)
    {
        var store = CredentialStore.For(terminal);
        var credentials = await store.LoadAsync(ct);
        var server = ServerConnection.Resolve(parse.GetValue(options.Server), terminal, credentials);
        Server = server;
        if (!signedIn)
        {
            return ServerConnection.Anonymous(server);
        }
        if (credentials is null)
        {
            throw CliException.NotLoggedIn($"You are not logged in to {server}.", LoginHint(server));
        }
        // A token goes only to the server that issued it.
        if (Uri.Compare(credentials.Server, server, UriComponents.HttpRequestUrl, UriFormat.SafeUnescaped, StringComparison.OrdinalIgnoreCase) != 0)
        {
            throw CliException.NotLoggedIn($"You are logged in to {credentials.Server}, not to {server}.", LoginHint(server));
        }
        return ServerConnection.SignedIn(server, credentials, store, terminal.Clock);
    }

    public static string LoginHint(Uri server)
        => server == new Uri(ServerConnection.DefaultServer) ? "Run `lethe login`." : $"Run `lethe login --server {server}`.";

    public async Task<int> RunAsync(Func<Invocation, CancellationToken, Task<int>> action, CancellationToken ct)
    {
        try
        {
            return await action(this, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // On a terminal the cursor may still be on a prompt's line.
            await terminal.Error.WriteLineAsync(terminal.IsInteractive ? Environment.NewLine + "Interrupted." : "Interrupted.");
            return ExitCodes.Interrupted;
        }
        catch (CliException e)
        {
            await WriteErrorAsync(e.Message, e.Hint);
            return e.ExitCode;
        }
        catch (LetheUnauthorizedException)
        {
            await WriteErrorAsync($"The server at {Server} did not accept your credentials.", Server is null ? null : LoginHint(Server));
            return ExitCodes.NotLoggedIn;
        }
        catch (LetheApiException e)
        {
            await WriteProblemAsync(e);
            return ExitCodes.Failed;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException && Server is not null)
        {
            // A 200 that is not JSON: the URL points at some other web server.
            await WriteErrorAsync($"The server at {Server} did not answer like a Lethe server ({e.Message.TrimEnd('.')}).", "Check --server or LETHE_SERVER.");
            return ExitCodes.Failed;
        }
#pragma warning disable CA1031 // The last resort of a CLI: a message and exit code 1, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await WriteErrorAsync(Describe(e), null);
            return ExitCodes.Failed;
        }
    }

    /// The message, and those of its causes where they add something (EF wraps the database's own).
    private static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (!messages.Any(m => m.Contains(x.Message.TrimEnd('.'), StringComparison.OrdinalIgnoreCase)))
            {
                messages.Add(x.Message);
            }
        }
        return string.Join(Environment.NewLine + "  ", messages);
    }

    public async Task WriteErrorAsync(string message, string? hint)
    {
        await terminal.Error.WriteLineAsync($"error: {message}");
        if (hint is not null)
        {
            await terminal.Error.WriteLineAsync($"hint: {hint}");
        }
    }

    private async Task WriteProblemAsync(LetheApiException e)
    {
        var line = string.IsNullOrWhiteSpace(e.Detail) ? e.Title : $"{e.Title} {e.Detail}";
        await terminal.Error.WriteLineAsync($"error: {line}");
        foreach (var (field, messages) in e.Errors)
        {
            foreach (var message in messages)
            {
                await terminal.Error.WriteLineAsync($"  {field}: {message}");
            }
        }
    }

    // Output

    public Task WriteJsonAsync<T>(T value) => terminal.Out.WriteLineAsync(JsonSerializer.Serialize(value, OutputJson));

    public Task WriteLineAsync(string line) => terminal.Out.WriteLineAsync(line);

    /// Empty results are said on stderr, so that stdout stays empty for a script.
    public Task WriteNothingAsync(string message) => terminal.Error.WriteLineAsync(message);

    public void Write(Spectre.Console.Rendering.IRenderable renderable) => terminal.Write(renderable);

    /// A borderless table with bold headers, one row per line: readable, and still fine for grep.
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.None);
        foreach (var header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))).PadLeft(0).PadRight(3));
        }
        return table;
    }

    /// Cells are plain text, never markup: a name with brackets prints as it is.
    public static void AddRow(Table table, params string?[] cells)
        => table.AddRow(cells.Select(c => (Spectre.Console.Rendering.IRenderable)new Text(c ?? "")).ToArray());

    /// "Key  value" lines for one object; a null value leaves its line out.
    public static Grid Details(params (string Key, string? Value)[] rows)
    {
        var grid = new Grid().AddColumn(new GridColumn().PadRight(3)).AddColumn();
        foreach (var (key, value) in rows.Where(r => r.Value is not null))
        {
            grid.AddRow(new Text(key, new Style(decoration: Decoration.Bold)), new Text(value ?? ""));
        }
        return grid;
    }

    /// A progress bar on a terminal; elsewhere the work runs without one and the output stays clean.
    public async Task<T> WithProgressAsync<T>(string description, double total, Func<Action<double>, Task<T>> work)
    {
        if (!terminal.IsInteractive || Json)
        {
            return await work(_ => { });
        }
        return await terminal.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                var result = await work(value => task.Value = value);
                task.Value = task.MaxValue;
                return result;
            });
    }

    /// A path segment as the user typed it: the server validates IDs and names, so the CLI never drifts from its rules.
    public static string Segment(string value)
    {
        if (string.IsNullOrWhiteSpace(value) || value is "." or "..")
        {
            throw CliException.Usage($"'{value}' is not an ID or a name.");
        }
        return Uri.EscapeDataString(value);
    }
}

/// An IProgress that reports on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
