using System.CommandLine;

namespace Lethe.Cli.Commands;

/// `lethe health`: is the server ready? Needs no login, so a script or a probe can run it.
internal static class HealthCommands
{
    public static Command Create(Terminal terminal, CommonOptions options)
    {
        var command = new Command("health", "Ask whether the server and its database are ready; exits 1 when unhealthy").With(options.Server, options.Output);
        command.Handle(terminal, options, async (run, ct) =>
        {
            using var connection = await run.ConnectAsync(signedIn: false, ct);
            var report = await connection.Client.GetHealthAsync(ct);
            if (run.Json)
            {
                await run.WriteJsonAsync(report);
            }
            else
            {
                await run.WriteLineAsync($"{connection.Server}: {report.Status}");
                var table = Invocation.Table("Check", "Status");
                foreach (var (check, status) in report.Checks.OrderBy(c => c.Key, StringComparer.Ordinal))
                {
                    Invocation.AddRow(table, check, status);
                }
                run.Write(table);
            }
            return report.Status == "Unhealthy" ? ExitCodes.Failed : ExitCodes.Success;
        });
        return command;
    }
}
