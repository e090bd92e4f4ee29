using System.CommandLine;
using System.Globalization;
using Lethe.Client;

namespace Lethe.Cli.Commands;

/// `lethe telemetry mine|actions`: the interactions Lethe recorded of you, and (operators) how often each action was used.
internal static class TelemetryCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var top = new Option<int>("--top") { Description = "At most this many events, newest first", DefaultValueFactory = _ => 100, HelpName = "N" };
        top.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 100_000)
            {
                r.AddError("--top is between 1 and 100000.");
            }
        });
        var mine = new Command("mine", "The interactions Lethe recorded of you: action, resource, when").With(top, options.Server, options.Output);
        mine.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var events = new List<TelemetryEventResource>();
            await foreach (var e in connection.Client.ListMyTelemetryAsync(ct))
            {
                events.Add(e);
                if (events.Count >= run.Value(top))
                {
                    break;
                }
            }
            if (run.Json)
            {
                await run.WriteJsonAsync(events);
                return ExitCodes.Success;
            }
            if (events.Count == 0)
            {
                await run.WriteNothingAsync("No events recorded.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("When", "Action", "Resource");
            foreach (var e in events)
            {
                Invocation.AddRow(table, e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture), e.Action, e.Resource);
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        var days = new Option<int>("--days") { Description = "Over the last N days (1 to 366)", DefaultValueFactory = _ => 30, HelpName = "N" };
        var actions = new Command("actions", "Events per action over the last days, every user together (operators)").With(days, options.Server, options.Output);
        actions.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: true, ct);
            var counts = await connection.Client.ListTelemetryActionsAsync(run.Value(days), ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(counts);
                return ExitCodes.Success;
            }
            if (counts.Count == 0)
            {
                await run.WriteNothingAsync("No events recorded.");
                return ExitCodes.Success;
            }
            var table = Invocation.Table("Action", "Events");
            foreach (var c in counts)
            {
                Invocation.AddRow(table, c.Action, c.Count.ToString(CultureInfo.InvariantCulture));
            }
            run.Write(table);
            return ExitCodes.Success;
        });

        return Cli.Group("telemetry", "Telemetry of user interactions: your own events, and counts per action", mine, actions);
    }
}
