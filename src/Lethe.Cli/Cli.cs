using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Lethe.Cli.Commands;

namespace Lethe.Cli;

/// `lethe`: the command tree and how a run ends (ExitCodes).
internal static class Cli
{
    /// For tests: a run with its own writers and environment variables, in this process.
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TextReader? input = null, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken ct = default)
        => RunAsync(args, Terminal.For(output, error, input ?? TextReader.Null, environment ?? new Dictionary<string, string?>()), ct);

    public static async Task<int> RunAsync(string[] args, Terminal terminal, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(terminal);
        var root = CreateRootCommand(terminal);
        // A bare `lethe` shows what it can do.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Action is ParseErrorAction)
        {
            await WriteUsageErrorsAsync(parse, terminal.Error);
            return ExitCodes.Usage;
        }
        var configuration = new InvocationConfiguration
        {
            Output = terminal.Out,
            Error = terminal.Error,
            // Invocation.RunAsync handles every failure: no stack trace reaches the user.
            EnableDefaultExceptionHandler = false,
            // Ctrl-C cancels the command's token; it then has this long to stop cleanly before the process
            // exits with 130. `serve` drains requests and workers within the host's 30 s shutdown timeout.
            ProcessTerminationTimeout = !terminal.HandlesSignals ? null
                : parse.CommandResult.Command.Name == "serve" ? TimeSpan.FromSeconds(35) : TimeSpan.FromSeconds(10),
        };
        return await parse.InvokeAsync(configuration, ct);
    }

    public static Command CreateRootCommand(Terminal terminal)
    {
        var options = new CommonOptions();
        // Not a RootCommand: that one is named after the running assembly (Lethe.Cli), and the command is `lethe`.
        var root = new Command("lethe", "Lethe: a self-hosted, privacy-first control plane.")
        {
            new HelpOption(),
            new VersionOption(),
            ServeCommands.Create(terminal, options),
            AccountCommands.CreateLogin(terminal, options),
            AccountCommands.CreateLogout(terminal, options),
            AccountCommands.CreateWhoami(terminal, options),
            SubscriptionCommands.Create(terminal, options),
            GroupCommands.Create(terminal, options),
            RoleCommands.Create(terminal, options),
            UserCommands.Create(terminal, options),
            TelemetryCommands.Create(terminal, options),
            PrivacyCommands.Create(terminal, options),
            OperationCommands.Create(terminal, options),
            HealthCommands.Create(terminal, options),
            DbCommands.Create(terminal, options),
            SeedCommands.Create(terminal, options),
            WorkspaceCommands.CreateWorkspace(terminal, options),
            WorkspaceCommands.CreateJob(terminal, options),
            WorkspaceCommands.CreateModel(terminal, options),
            CatalogCommands.Create(terminal, options),
            LabCommands.Create(terminal, options),
        };
        return root;
    }

    /// Sets what a command does, run through <see cref="Invocation.RunAsync"/>.
    public static void Handle(this Command command, Terminal terminal, CommonOptions options, Func<Invocation, CancellationToken, Task<int>> action)
        => command.SetAction((parse, ct) => new Invocation(terminal, parse, options).RunAsync(action, ct));

    /// A command that only groups others: on its own, it shows its help.
    public static Command Group(string name, string description, params Command[] subcommands)
    {
        var group = new Command(name, description);
        foreach (var subcommand in subcommands)
        {
            group.Subcommands.Add(subcommand);
        }
        group.SetAction(parse => new HelpAction().Invoke(parse));
        return group;
    }

    /// Adds options to a command and returns it, for building the tree in one expression.
    public static Command With(this Command command, params Option[] options)
    {
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
        return command;
    }

    private static async Task WriteUsageErrorsAsync(ParseResult parse, TextWriter error)
    {
        // The first word not understood is the one to fix; the words after it, and "Required command
        // was not provided", follow from it.
        var errors = parse.UnmatchedTokens.Count > 0
            ? parse.Errors.Where(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal) && !parse.UnmatchedTokens.Skip(1).Any(t => e.Message.Contains($"'{t}'", StringComparison.Ordinal))).ToList()
            : [.. parse.Errors];
        foreach (var e in errors.Count > 0 ? errors : [.. parse.Errors])
        {
            await error.WriteLineAsync($"error: {e.Message}");
        }
        var command = parse.CommandResult.Command;
        if (Suggestion(parse, command) is { } suggestion)
        {
            await error.WriteLineAsync($"Did you mean '{suggestion}'?");
        }
        await error.WriteLineAsync($"Run '{PathOf(parse)} --help' for usage.");
    }

    /// The nearest subcommand to the first unmatched word, when one is close enough to be a typo.
    private static string? Suggestion(ParseResult parse, Command command)
    {
        var typed = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;
        if (typed is null || typed.StartsWith('-'))
        {
            return null;
        }
        return command.Subcommands
            .Select(c => (c.Name, Distance: Distance(typed, c.Name)))
            .Where(c => c.Distance <= Math.Max(1, c.Name.Length / 3))
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)
            .FirstOrDefault();
    }

    private static string PathOf(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names);
    }

    // Levenshtein distance: the words are a few letters long.
    private static int Distance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            previous = current;
        }
        return previous[b.Length];
    }
}
