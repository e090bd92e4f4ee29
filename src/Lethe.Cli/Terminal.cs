using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Lethe.Cli;

/// Where a command reads and writes: the process's console, or writers a test hands in. Tables and
/// progress bars go through <see cref="Console"/>, which draws them only on a real terminal, so that
/// redirected output stays plain text that scripts can read.
internal sealed class Terminal
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TextReader In { get; init; }
    public required IAnsiConsole Console { get; init; }

    /// Environment variables; tests hand in their own, so that parallel tests never share a login.
    public required Func<string, string?> Variable { get; init; }

    /// Standard output is a terminal: tables are drawn for a person, with bold headers.
    public bool IsTerminal { get; init; }

    /// Both ends are a person at a terminal: prompts and progress bars make sense.
    public bool IsInteractive { get; init; }

    /// Ctrl-C and SIGTERM cancel the command; only the real process registers for the signals.
    public bool HandlesSignals { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public static Terminal ForProcess()
    {
        var isTerminal = !System.Console.IsOutputRedirected;
        var interactive = isTerminal && !System.Console.IsInputRedirected;
        return new Terminal
        {
            Out = System.Console.Out,
            Error = System.Console.Error,
            In = System.Console.In,
            Console = CreateConsole(System.Console.Out, isTerminal, interactive),
            Variable = Environment.GetEnvironmentVariable,
            IsTerminal = isTerminal,
            IsInteractive = interactive,
            HandlesSignals = true,
        };
    }

    public static Terminal For(TextWriter output, TextWriter error, TextReader input, IReadOnlyDictionary<string, string?> environment) => new()
    {
        Out = output,
        Error = error,
        In = input,
        Console = CreateConsole(output, isTerminal: false, interactive: false),
        Variable = name => environment.GetValueOrDefault(name),
    };

    public static IAnsiConsole CreateConsole(TextWriter writer, bool isTerminal, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!isTerminal)
        {
            // Redirected output has no width: keep each table row on one line for grep and awk.
            console.Profile.Width = 1_000;
        }
        return console;
    }

    /// Draws a table or grid: on a terminal as Spectre.Console does; redirected, as plain lines
    /// without the padding after the last column.
    public void Write(IRenderable renderable)
    {
        if (IsTerminal)
        {
            Console.Write(renderable);
            return;
        }
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        CreateConsole(text, isTerminal: false, interactive: false).Write(renderable);
        foreach (var line in text.ToString().Split('\n'))
        {
            if (line.Length > 0)
            {
                Out.WriteLine(line.TrimEnd());
            }
        }
    }
}
